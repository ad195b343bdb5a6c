// Guest side of test/lab/mqtt-alert.test.ts: a broker in the LAN namespace, wanbond's health
// monitor and MQTT front end on the router (test/lab/mqtt-alert-agent.ts), the concentrator's
// health monitor answering probes (bench/kernel-agent.ts). Cuts one link and records when the
// `link_down` alert reached a subscriber on the LAN.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadProfile } from '../../lab/profile.ts';
import { REPO_ROOT } from '../../lab/run.ts';
import { log, runScenario } from '../../lab/scenario.ts';
import { buildTopology, type SpawnedProcess } from '../../lab/topology.ts';
import { HEALTH_DEFAULTS } from '../../src/config/defaults.ts';
import { buildPlane, pinLinks, probeConc, probeRouter, gretapDev } from '../../bench/kernel-dataplane.ts';
import type { AgentSpec } from '../../bench/kernel-agent.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
interface Msg { at: number; topic: string; payload: string }
// mosquitto_sub -F '%U %t %p': receive time (unix seconds, ns), topic, payload.
const messages = (p: SpawnedProcess): Msg[] =>
  p.output().split('\n').map((l) => /^(\d+\.\d+) (\S+) (.*)$/.exec(l)).filter((m) => m !== null)
    .map((m) => ({ at: Number(m[1]) * 1000, topic: m[2]!, payload: m[3]! }));
const alerts = (p: SpawnedProcess) => messages(p).filter((m) => m.topic.endsWith('/alert')).map((m) => ({ at: m.at, ...JSON.parse(m.payload) }));

await runScenario(async ({ check, figure }) => {
  const lab = await buildTopology(loadProfile(join(REPO_ROOT, 'bench', 'profiles', 'hetero-3.json')), { services: false });
  await pinLinks(lab);
  await buildPlane(lab, { paths: [1, 1, 1], extraRouter: [0, 0, 0], extraConc: [0, 0, 0], mode: 'balance-rr' });
  const lanAddr = lab.sites[0]!.lanAddress;

  const conf = '/tmp/lab-mosquitto.conf';
  writeFileSync(conf, `listener 1883 ${lanAddr}\nallow_anonymous true\nuser root\n`);
  const broker = lab.spawn('lan', ['mosquitto', '-c', conf]);
  const pub = (topic: string) => lab.exec('lan', ['mosquitto_pub', '-h', lanAddr, '-t', topic, '-m', 'ready'], { timeoutMs: 10_000, reject: false });
  const readyBy = Date.now() + 60_000;
  while (Date.now() < readyBy && (await pub('lab/ready')).exitCode !== 0) await sleep(250);
  const sub = lab.spawn('lan', ['mosquitto_sub', '-h', lanAddr, '-t', 'wanbond/#', '-t', 'homeassistant/#', '-q', '1', '-F', '%U %t %p']);
  // Subscribed once a marker published after it comes back.
  while (Date.now() < readyBy && !messages(sub).some((m) => m.topic === 'wanbond/lab-marker')) {
    await pub('wanbond/lab-marker');
    await sleep(250);
  }
  check('a broker and a subscriber run in the LAN namespace', messages(sub).some((m) => m.topic === 'wanbond/lab-marker'), broker.output().slice(-500));

  const links = lab.links.map((l) => {
    const n = l.index + 1;
    return { key: l.name, name: l.name, id: n, role: 'active' as const, enabled: true, rx_devs: [gretapDev(n, 1)] };
  });
  const concSpec: AgentSpec = {
    role: 'concentrator', health: HEALTH_DEFAULTS, equalise: false,
    links: links.map((l) => ({ ...l, local: probeConc(l.id), peer: probeRouter(l.id), gretaps: [gretapDev(l.id, 1)] })),
  };
  const conc = lab.spawn(lab.conc.ns, ['node', '--import', 'tsx', join(REPO_ROOT, 'bench', 'kernel-agent.ts'), JSON.stringify(concSpec)]);
  const routerSpec = { health: HEALTH_DEFAULTS, broker: `mqtt://${lanAddr}:1883`, links: links.map((l) => ({ ...l, local: probeRouter(l.id), peer: probeConc(l.id) })) };
  const router = lab.spawn('router', ['node', '--import', 'tsx', join(REPO_ROOT, 'test', 'lab', 'mqtt-alert-agent.ts'), JSON.stringify(routerSpec)]);

  const upDeadline = Date.now() + 120_000;
  const allUp = () => lab.links.every((l) => alerts(sub).some((a) => a.link === l.name && a.event_type === 'link_up'));
  while (Date.now() < upDeadline && !allUp()) await sleep(250);
  const online = messages(sub).some((m) => m.topic === 'wanbond/labrouter/availability' && m.payload === 'online');
  check('the router is online on the LAN broker and every link came up', online && allUp(),
    `online ${online}; alerts: ${alerts(sub).map((a) => `${a.link} ${a.event_type}`).join(', ')}\n${router.output().slice(-1500)}`);
  const discovery = messages(sub).filter((m) => m.topic.startsWith('homeassistant/')).length;
  check('Home Assistant discovery reached the LAN broker', discovery > 0, `${discovery} discovery configs`);

  await sleep(2000);
  const victim = lab.links[0]!;
  const cutAt = Date.now();
  await lab.setLink(victim, { loss_pct: 100 });
  const downDeadline = Date.now() + 15_000;
  const down = () => alerts(sub).find((a) => a.link === victim.name && a.event_type === 'link_down' && a.at >= cutAt);
  while (Date.now() < downDeadline && !down()) await sleep(50);
  const d = down();
  figure('down_alert_s', d ? (d.at - cutAt) / 1000 : null);
  const ev = router.output().split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as { kind: string; at: number; link: string; to: string })
    .find((e) => e.kind === 'link' && e.link === victim.name && e.to === 'down' && e.at >= cutAt);
  figure('down_event_s', ev ? (ev.at - cutAt) / 1000 : null);
  figure('mqtt_delivery_s', ev && d ? (d.at - ev.at) / 1000 : null);
  check('the cut produced a link_down alert on the LAN broker', !!d, d ? `${d.message}` : alerts(sub).map((a) => `${a.link} ${a.event_type}`).join(', '));
  const stateDown = () => messages(sub).filter((m) => m.topic === `wanbond/labrouter/link/${victim.name}/state` && m.at >= cutAt)
    .map((m) => JSON.parse(m.payload)).find((s) => s.status === 'down' && s.online === false);
  const stateDeadline = Date.now() + 15_000;
  while (Date.now() < stateDeadline && !stateDown()) await sleep(100);
  check('the link state on the broker says down', !!stateDown(), `${JSON.stringify(stateDown())}`);

  await lab.resetLink(victim);
  await router.stop();
  await conc.stop();
  await sub.stop();
  await broker.stop();
  log('done');
  await lab.destroy();
});
