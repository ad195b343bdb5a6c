// Numbers and names wanbond owns. Everything here is derived from a link's stable id (1..16) and
// the site's tunnel /24, so both ends compute the same addresses without talking to each other.

export const MAX_LINK_ID = 16;
/** ip rule priorities 960..989 are wanbond's: before mwan3 (1000+) and netifd (10000+). */
export const RULE_PRIO_MIN = 960;
export const RULE_PRIO_MAX = 989;
export const RULE_PRIO_BYPASS = 960;
export const RULE_PRIO_SUPPRESS = 980;
export const RULE_PRIO_EXPRESS = 981;
export const RULE_PRIO_LAN = 982;
/** Routing tables 5700 (LAN -> bond), 5701..5716 (link i -> its modem), 5717 (express). */
export const TABLE_BOND = 5700;
export const TABLE_EXPRESS = 5717;
/** Route protocol number marking every route wanbond adds (shown as "87" by ip). */
export const ROUTE_PROTO = 87;
/** fwmark of link i's WireGuard packets; matched under FWMARK_MASK so mwan3's 0x3f00 bits do not matter. */
export const FWMARK_BASE = 0x57420000;
export const FWMARK_MASK = 0xffff00ff;
/** fwmark (under FWMARK_MASK) of small packets that take the express path instead of the bond. */
export const EXPRESS_MARK = FWMARK_BASE + 0xff;
/** iptables only (nft keeps a set of conntrack ids): conntrack mark bit of a connection that has carried a packet too big for express; it stays in the bond. */
export const EXPRESS_BULK_CTMARK = 0x00400000;
/** GRE key of a link's express tunnel (its gretaps use keys 1..MAX_PATHS). */
export const EXPRESS_KEY = 4096;
/** Bytes: an L3 GRE with a key inside the WireGuard tunnel (20 IP + 8 GRE). */
export const GRE_OVERHEAD = 28;
/** Bytes: WireGuard over IPv4 / IPv6, gretap with a GRE key (14 Ethernet + 20 IP + 8 GRE). */
export const WG_OVERHEAD_V4 = 60;
export const WG_OVERHEAD_V6 = 80;
export const GRETAP_OVERHEAD = 42;
/** Bytes of the modem link's own Ethernet header, which netem and most modems count against the rate. */
export const MODEM_ETHERNET = 14;
export const KEEPALIVE_S = 25;
export const NFT_TABLE = 'wanbond';
export const MAX_PATHS = 8;

export const ROUTER_BOND = 'wbond';
export const CONC_WG = 'wb0';

/**
 * The concentrator's shaper classes (HTB on wb0): 1:<minor>, the minor in hex as tc writes it.
 * Sixteen minors per site in config order from 0x10, one per link id, so a link keeps its class
 * whichever other links are shaped.
 */
export const htbMinor = (siteIndex: number, linkId: number) => 0x10 * (siteIndex + 1) + (linkId - 1);
export const htbClassId = (minor: number) => `1:${minor.toString(16)}`;
/** A mark or mask as ip rule, nft and iptables write it (0x-prefixed hex, unsigned). */
export const hex = (n: number) => '0x' + (n >>> 0).toString(16);

export const linkTable = (id: number) => TABLE_BOND + id;
export const linkRulePrio = (id: number) => RULE_PRIO_BYPASS + id;
export const linkMark = (id: number) => FWMARK_BASE + id;
export const routerWg = (id: number) => `wbl${id}`;
export const routerGretap = (id: number, path: number) => `wbg${id}p${path}`;
export const routerExpress = (id: number | '') => `wbx${id}`;

/** Short stable tag of a site on the concentrator, from its subnet's 2nd and 3rd octets (hex). */
export function siteTag(subnet: string): string {
  const o = parseSubnet(subnet).base;
  return (((o >>> 16) & 0xff).toString(16).padStart(2, '0') + ((o >>> 8) & 0xff).toString(16).padStart(2, '0'));
}
export const siteBond = (subnet: string) => `wb${siteTag(subnet)}`;
/**
 * tc shared blocks on the gretaps' ingress (one per bond): each hands what its gretap receives to
 * its bond, enslaved or not (src/kernel/ingress-diff.ts). The router has one bond; a concentrator
 * site's block follows its tag. Only wanbond uses numbers from this base up.
 */
export const BOND_BLOCK_BASE = 0x77620000;
export const ROUTER_BLOCK = BOND_BLOCK_BASE;
export const siteBlock = (subnet: string) => BOND_BLOCK_BASE + 1 + parseInt(siteTag(subnet), 16);
export const isOwnBlock = (n: number) => n >= BOND_BLOCK_BASE && n <= BOND_BLOCK_BASE + 0x10000;
export const siteGretap = (subnet: string, id: number, path: number) => `wb${siteTag(subnet)}g${id}p${path}`;
export const siteExpress = (subnet: string, id: number | '') => `wb${siteTag(subnet)}x${id}`;

/** Names wanbond creates; anything else is never touched. */
export const OWN_LINK_NAME = /^wb(ond|0|l\d{1,2}|g\d{1,2}p\d|x\d{1,2}|[0-9a-f]{4}|[0-9a-f]{4}g\d{1,2}p\d|[0-9a-f]{4}x\d{1,2})$/;

export function ipToInt(ip: string): number {
  const p = ip.split('.').map((x) => Number(x));
  if (p.length !== 4 || p.some((x) => !Number.isInteger(x) || x < 0 || x > 255)) throw new Error(`not an IPv4 address: ${ip}`);
  return ((p[0]! << 24) | (p[1]! << 16) | (p[2]! << 8) | p[3]!) >>> 0;
}
export function intToIp(n: number): string {
  return [n >>> 24, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff].join('.');
}

/** A site's tunnel subnet: must be an IPv4 /24 (a shorter prefix uses its first 256 addresses). */
export function parseSubnet(subnet: string): { base: number; prefix: number } {
  const m = /^(\d+\.\d+\.\d+\.\d+)\/(\d+)$/.exec(subnet);
  if (!m) throw new Error(`tunnel subnet must be an IPv4 prefix like 10.213.7.0/24, got '${subnet}'`);
  const prefix = Number(m[2]);
  if (prefix > 24) throw new Error(`tunnel subnet ${subnet} is smaller than a /24`);
  const base = ipToInt(m[1]!) & 0xffffff00;
  return { base: base >>> 0, prefix };
}

/** The site's tunnel addresses: bond /30 at .0 (.1 concentrator, .2 router); link i's /30 at 4*i. */
export function siteAddresses(subnet: string) {
  const { base } = parseSubnet(subnet);
  return {
    bondConc: intToIp(base + 1),
    bondRouter: intToIp(base + 2),
    bondPrefix: 30,
    subnet: `${intToIp(base)}/24`,
  };
}
export function linkAddresses(subnet: string, id: number): { conc: string; router: string } {
  if (!Number.isInteger(id) || id < 1 || id > MAX_LINK_ID) throw new Error(`link id ${id} is not 1..${MAX_LINK_ID}`);
  const { base } = parseSubnet(subnet);
  return { conc: intToIp(base + 4 * id + 1), router: intToIp(base + 4 * id + 2) };
}

/** Bond MTU from the smallest path MTU: WireGuard and gretap overheads taken off. */
export function computeMtu(pathMtu: number, ipv6Endpoint: boolean): { wg: number; bond: number } {
  const wg = pathMtu - (ipv6Endpoint ? WG_OVERHEAD_V6 : WG_OVERHEAD_V4);
  return { wg, bond: wg - GRETAP_OVERHEAD };
}
