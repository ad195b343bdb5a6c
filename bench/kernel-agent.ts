// Guest side, one per end of the hand-built kernel data plane (bench/kernel-dataplane.ts), used by
// the health lab tests (test/lab/health-failover, mqtt-alert) to drive the bond without the stack:
// wanbond's health monitor and steering driving that plane, as the daemon drives its own stack.
// A link leaving the transmit set has its gretaps set down (balance-rr skips them); the extra
// delay is netem on the gretaps. Prints one JSON line per link event and per steering change.
// Usage: kernel-agent.ts '<json AgentSpec>'
import { execa } from 'execa';
import { HealthMonitor, type MonitoredLink } from '../src/health/monitor.ts';
import type { Health } from '../src/config/types.ts';
import type { SteerLink } from '../src/steer/steer.ts';

export interface AgentSpec {
  role: 'router' | 'concentrator';
  health: Health;
  links: (MonitoredLink & { gretaps: string[] })[];
  equalise: boolean;
  port?: number;
}

const spec = JSON.parse(process.argv[2] ?? '{}') as AgentSpec;
const out = (o: unknown) => process.stdout.write(JSON.stringify(o) + '\n');
const mon = new HealthMonitor({
  role: spec.role,
  health: spec.health,
  fallback: { enabled: false, timeout_s: 30 },
  steer: { equalise: spec.equalise },
  ...(spec.port ? { port: spec.port } : {}),
});
mon.setLinks(spec.links);
const applied = new Map<string, SteerLink>();
let latest: Record<string, SteerLink> | null = null;
let busy = false;

/** Applies the newest decision only (a stale one is skipped), membership first, each in one batch. */
async function applyLatest(): Promise<void> {
  if (busy) return;
  busy = true;
  while (latest) {
    const want = latest;
    latest = null;
    const ip: string[] = [];
    const tc: string[] = [];
    for (const [key, s] of Object.entries(want)) {
      const link = spec.links.find((l) => l.key === key);
      if (!link) continue;
      const before = applied.get(key);
      if (before?.in_bond !== s.in_bond) for (const g of link.gretaps) ip.push(`link set ${g} ${s.in_bond ? 'up' : 'down'}`);
      if (before?.extra_delay_ms !== s.extra_delay_ms) {
        for (const g of link.gretaps) tc.push(s.extra_delay_ms > 0 ? `qdisc replace dev ${g} root netem delay ${s.extra_delay_ms}ms limit 10000` : `qdisc del dev ${g} root`);
      }
      applied.set(key, s);
    }
    if (ip.length) await execa('ip', ['-force', '-batch', '-'], { input: ip.join('\n') + '\n', reject: false });
    if (tc.length) await execa('tc', ['-force', '-batch', '-'], { input: tc.join('\n') + '\n', reject: false });
    out({ kind: 'applied', at: Date.now(), members: Object.entries(want).filter(([, s]) => s.in_bond).map(([k]) => k) });
  }
  busy = false;
}

mon.on('link', (e) => out({ kind: 'link', at: Date.now(), ...e }));
mon.on('steering', (d) => {
  out({ kind: 'steering', at: Date.now(), links: d.links, members: d.members });
  latest = d.links;
  void applyLatest();
});
mon.start();
process.on('SIGTERM', () => {
  mon.stop();
  out({ kind: 'stopped', at: Date.now(), garbage: mon.garbage.counts });
  process.exit(0);
});
