// Learn each router link's device and gateway: from netifd (`ubus call network.interface.<if>
// status`) when the link names an interface and ubus is there, else from the config's
// device + gateway (up when the device exists and is up).
import { existsSync, readFileSync } from 'node:fs';
import { execa } from 'execa';
import type { Config, Link } from '../config/types.ts';
import type { LinkRuntime } from '../plan/types.ts';

export interface NetifdStatus {
  up?: boolean;
  l3_device?: string;
  device?: string;
  route?: { target: string; mask: number; nexthop: string; table?: number }[];
}

/** The link as netifd reports it (openwrt.md §2: l3_device, the default route's nexthop, up). */
export function fromNetifd(name: string, s: NetifdStatus): LinkRuntime {
  const dflt = (s.route ?? []).find((r) => r.target === '0.0.0.0' && r.mask === 0);
  const device = s.l3_device ?? s.device;
  return {
    name,
    up: !!s.up && !!device,
    ...(device ? { device } : {}),
    ...(dflt && dflt.nexthop && dflt.nexthop !== '0.0.0.0' ? { gateway: dflt.nexthop } : {}),
  };
}

const hasUbus = () => existsSync('/var/run/ubus/ubus.sock') || existsSync('/var/run/ubus.sock');

async function ubusStatus(iface: string): Promise<NetifdStatus | undefined> {
  const r = await execa('ubus', ['call', `network.interface.${iface}`, 'status'], { reject: false, timeout: 5000 });
  if (r.exitCode !== 0) return undefined;
  try {
    return JSON.parse(String(r.stdout)) as NetifdStatus;
  } catch {
    return undefined;
  }
}

/** From sysfs, not `ip`: starting a process is costly on small routers (and stalls the lab's UML). */
function deviceUp(dev: string): { up: boolean } {
  try {
    const flags = parseInt(readFileSync(`/sys/class/net/${dev}/flags`, 'utf8').trim(), 16);
    return { up: (flags & 0x1) === 1 }; // IFF_UP
  } catch {
    return { up: false };
  }
}

/** One link's run-time state, polled now. */
export async function learnLink(l: Link): Promise<LinkRuntime> {
  if (l.device) {
    const d = deviceUp(l.device);
    return { name: l.name, up: d.up, device: l.device, ...(l.gateway ? { gateway: l.gateway } : {}) };
  }
  if (l.interface && hasUbus()) {
    const s = await ubusStatus(l.interface);
    if (s) return fromNetifd(l.name, s);
  }
  return { name: l.name, up: false };
}

export async function learnLinks(config: Config): Promise<Record<string, LinkRuntime>> {
  const out: Record<string, LinkRuntime> = {};
  if (config.globals.role !== 'router') return out;
  for (const l of config.links) if (l.enabled) out[l.name] = await learnLink(l);
  return out;
}
