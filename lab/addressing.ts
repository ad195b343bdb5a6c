// The lab's names and addresses, computed from the profile: pure data, no side effects.
//
//   lan --eth0-- router --ethI-- modemI --wan0-- core --conc0-- conc (198.51.100.1)
//                                  \--wan0-- cgnat --wan0-- core --srv0-- server (203.0.113.10)
// Site 2 (optional): lan2 -- router2 -- s2modemI -- core, behind s2cgnat where CGNATed.
import { isCgnat, type LabProfile, type LinkProfile } from './profile.ts';

export interface LabLink {
  /** 0-based position in its site's links (and in the profile). */
  index: number;
  site: number;
  /** Name the router would give it (netifd interface): wan1, wan2, ... */
  name: string;
  routerNs: string;
  /** Router's device toward the modem. */
  device: string;
  /** Router's address on the modem's LAN (no prefix length). */
  address: string;
  prefixLen: number;
  /** The modem's LAN address: the gateway of this link. */
  gateway: string;
  modemNs: string;
  /** Namespace of the carrier NAT in front of the modem, if any. */
  cgnatNs: string | null;
  /** The modem's address on its uplink (100.64.x.x behind CGNAT, else public). */
  modemWanAddress: string;
  /** Source address the internet sees for traffic through this link. */
  publicAddress: string;
  /** Where the link's netem qdiscs live: upload on modem wan0, download on the far end. */
  upShaper: { ns: string; dev: string };
  downShaper: { ns: string; dev: string };
  profile: LinkProfile;
}

export interface LabSite {
  index: number;
  lanNs: string;
  routerNs: string;
  /** LAN client's address and the router's LAN address (no prefix length, /24). */
  lanAddress: string;
  routerLanAddress: string;
  lanSubnet: string;
  cgnatNs: string | null;
  cgnatPublicAddress: string | null;
  links: LabLink[];
}

export const CONC = { ns: 'conc', dev: 'eth0', address: '198.51.100.1', prefixLen: 24, gateway: '198.51.100.254' } as const;
export const SERVER = {
  ns: 'server', dev: 'eth0', address: '203.0.113.10', prefixLen: 24, gateway: '203.0.113.1',
  /** TCP: answers each connection with the address it came from, then echoes. */
  whoamiPort: 8080,
  /** UDP: echoes every datagram back. */
  udpEchoPort: 8081,
  iperfPorts: [5201, 5202, 5203, 5204, 5205, 5206],
} as const;
export const CORE_NS = 'core';

export function planSites(profile: LabProfile, sites: number): LabSite[] {
  const out: LabSite[] = [];
  for (let s = 1; s <= sites; s++) {
    const p = s === 1 ? '' : `s${s}`;
    const cgnatNs = profile.links.some((l, i) => isCgnat(l, i)) ? `${p}cgnat` : null;
    const siteBase = (s - 1) * 10; // site 1: 192.168.101.x, site 2: 192.168.111.x
    const links = profile.links.map((lp, i): LabLink => {
      const n = i + 1;
      const behind = isCgnat(lp, i);
      const modemNs = `${p}modem${n}`;
      const wanNet = siteBase + n;
      return {
        index: i,
        site: s,
        name: `wan${n}`,
        routerNs: s === 1 ? 'router' : `router${s}`,
        device: `eth${n}`,
        address: `192.168.${100 + siteBase + n}.2`,
        prefixLen: 24,
        gateway: `192.168.${100 + siteBase + n}.1`,
        modemNs,
        cgnatNs: behind ? cgnatNs : null,
        modemWanAddress: behind ? `100.64.${wanNet}.2` : `198.18.${wanNet}.2`,
        publicAddress: behind ? `198.18.${100 + siteBase}.2` : `198.18.${wanNet}.2`,
        upShaper: { ns: modemNs, dev: 'wan0' },
        downShaper: behind ? { ns: cgnatNs!, dev: `m${n}` } : { ns: CORE_NS, dev: `${p || 's1'}m${n}` },
        profile: lp,
      };
    });
    out.push({
      index: s,
      lanNs: s === 1 ? 'lan' : `lan${s}`,
      routerNs: s === 1 ? 'router' : `router${s}`,
      lanAddress: `192.168.${s}.2`,
      routerLanAddress: `192.168.${s}.1`,
      lanSubnet: `192.168.${s}.0/24`,
      cgnatNs,
      cgnatPublicAddress: cgnatNs ? `198.18.${100 + siteBase}.2` : null,
      links,
    });
  }
  return out;
}
