// Guest side, one per end of the hand-built kernel data plane (bench/kernel-dataplane.ts):
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
let queue = Promise.resolve();

async function apply(key: string, s: SteerLink): Promise<void> {
  const link = spec.links.find((l) => l.key === key)!;
  const before = applied.get(key);
  const lines: string[] = [];
  if (before?.in_bond !== s.in_bond) for (const g of link.gretaps) lines.push(`link set ${g} ${s.in_bond ? 'up' : 'down'}`);
  if (lines.length) await execa('ip', ['-force', '-batch', '-'], { input: lines.join('\n') + '\n', reject: false });
  if (before?.extra_delay_ms !== s.extra_delay_ms) {
    for (const g of link.gretaps) {
      if (s.extra_delay_ms > 0) await execa('tc', ['qdisc', 'replace', 'dev', g, 'root', 'netem', 'delay', `${s.extra_delay_ms}ms`, 'limit', '10000'], { reject: false });
      else await execa('tc', ['qdisc', 'del', 'dev', g, 'root'], { reject: false });
    }
  }
  applied.set(key, s);
}

mon.on('link', (e) => out({ kind: 'link', at: Date.now(), ...e }));
mon.on('steering', (d) => {
  out({ kind: 'steering', at: Date.now(), links: d.links, members: d.members });
  queue = queue.then(async () => {
    for (const [k, s] of Object.entries(d.links)) await apply(k, s);
    out({ kind: 'applied', at: Date.now(), members: d.members });
  });
});
mon.start();
process.on('SIGTERM', () => {
  mon.stop();
  out({ kind: 'stopped', at: Date.now(), garbage: mon.garbage.counts });
  process.exit(0);
});
