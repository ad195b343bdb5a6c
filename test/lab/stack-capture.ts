// Not a test: regenerates test/fixtures/kernel/ (what ip -j, wg, tc and iptables-save report on a
// converged router and concentrator in the lab), used by test/unit/reconcile-*.test.ts.
// Run on the host: node --import tsx test/lab/stack-capture.ts
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { agent, concUci, genKey, inGuest, routerUci } from './stack-lib.ts';

const FILE = fileURLToPath(import.meta.url);
const OUT = fileURLToPath(new URL('../fixtures/kernel/', import.meta.url));
const COMMANDS: Record<string, string[]> = {
  'link.json': ['ip', '-j', '-d', 'link', 'show'],
  'addr.json': ['ip', '-j', 'addr', 'show'],
  'rule.json': ['ip', '-j', '-4', 'rule', 'show'],
  'route.json': ['ip', '-j', '-4', 'route', 'show', 'table', 'all'],
  'qdisc.json': ['tc', '-j', 'qdisc', 'show'],
  'iptables.save': ['iptables-legacy-save'],
  'wg.dump': ['wg', 'show', 'all', 'dump'],
};

if (!inGuest()) {
  const { runInLab } = await import('../../lab/run.ts');
  const r = await runInLab({ scenario: FILE, timeoutSec: 400 });
  const res = r.result as { files?: Record<string, string> } | null;
  if (!res?.files) {
    console.log(r.output.slice(-4000));
    process.exit(1);
  }
  mkdirSync(OUT, { recursive: true });
  for (const [name, text] of Object.entries(res.files)) writeFileSync(OUT + name, text);
  console.log(`wrote ${Object.keys(res.files).length} files to ${OUT}`);
} else {
  const { writeResult } = await import('../../lab/scenario.ts');
  const { loadProfile } = await import('../../lab/profile.ts');
  const { buildTopology, CONC } = await import('../../lab/topology.ts');
  const { ROUTER_BLOCK, siteBlock } = await import('../../src/plan/addressing.ts');
  const lab = await buildTopology(loadProfile('default'), { services: false });
  const site = lab.sites[0]!;
  const dir = '/tmp/wb/cap';
  const concKey = await genKey(`${dir}/conc.key`);
  const peers: string[] = [];
  for (const l of site.links) peers.push(`${l.index + 1}:${l.name}:${await genKey(`${dir}/${l.name}.key`)}`);
  const files: Record<string, string> = {
    'conc.uci': concUci(dir, [{ name: 'home', subnet: '10.213.1.0/24', peers }]),
    'router.uci': routerUci({ site, dir, concKey }),
  };
  writeFileSync(`${dir}/conc.uci`, files['conc.uci']!);
  writeFileSync(`${dir}/router.uci`, files['router.uci']!);
  await agent(lab, CONC.ns, ['apply', '--config', `${dir}/conc.uci`]);
  await agent(lab, 'router', ['apply', '--config', `${dir}/router.uci`]);
  for (const [ns, prefix] of [['router', 'router-'], [CONC.ns, 'conc-']] as const) {
    for (const [name, argv] of Object.entries(COMMANDS)) {
      let text = (await lab.execIsolated(ns, argv, { reject: false })).stdout;
      // The dump's interface lines carry the private key: never into a fixture.
      if (name === 'wg.dump') text = text.split('\n').map((l) => { const f = l.split('\t'); if (f.length === 5) f[1] = '(hidden)'; return f.join('\t'); }).join('\n');
      if (name === 'iptables.save') text = text.replace(/^# .*\n/gm, '');
      files[prefix + name] = text;
    }
    const block = prefix === 'router-' ? ROUTER_BLOCK : siteBlock('10.213.1.0/24');
    files[`${prefix}block.json`] = (await lab.execIsolated(ns, ['tc', '-j', 'filter', 'show', 'block', String(block)], { reject: false })).stdout;
  }
  files['ip_forward'] = readFileSync('/proc/sys/net/ipv4/ip_forward', 'utf8');
  writeResult({ files });
  process.exit(0);
}
