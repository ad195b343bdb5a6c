// Telemetry and availability against a real mosquitto: retained per-link and bond states in the
// ubus status shape, `online` on start, `offline` by last will when the process is killed -9.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { startMqtt } from '../../src/mqtt/index.ts';
import { startMosquitto } from './helpers/mosquitto.ts';
import { Watch, retained } from './helpers/mqtt-watch.ts';
import { AgentApiDouble, linkStatus, statusWith } from './helpers/agent-api-double.ts';
import { mqttConfig, recordingLogger } from './helpers/mqtt-config.ts';

const PREFIX = 'wanbond/testrouter';

for (const qos of [0, 1] as const) test(`link and bond states (QoS ${qos}): retained, the ubus status shape split in two, and they follow the status`, async (t) => {
  const broker = await startMosquitto();
  t.after(() => broker.dispose());
  const api = new AgentApiDouble(statusWith([linkStatus('lte1', { express: true }), linkStatus('dsl', { status: 'down', online: false, rtt_ms: null, loss_pct: 100, in_bond: false })]));
  const h = startMqtt(mqttConfig(broker.url, { ha_discovery: false, qos }), api, { hostname: 'testrouter', log: recordingLogger() });
  t.after(() => h.stop());
  const w = await Watch.open(broker.url, [`${PREFIX}/#`]);
  t.after(() => w.close());
  await w.waitFor((s) => s.topic === `${PREFIX}/link/dsl/state`, 20_000, 'dsl state');
  await w.waitFor((s) => s.topic === `${PREFIX}/bond/state`, 20_000, 'bond state');

  const kept = await retained(broker.url, [`${PREFIX}/#`]);
  const { links, ...rest } = api.current;
  assert.deepEqual(JSON.parse(kept.get(`${PREFIX}/bond/state`)!), rest);
  for (const l of links) assert.deepEqual(JSON.parse(kept.get(`${PREFIX}/link/${l.name}/state`)!), l);
  assert.equal(kept.get(`${PREFIX}/availability`), 'online');
  // A null measurement stays null (not 0) so consumers can tell "unknown" from "perfect".
  assert.equal(JSON.parse(kept.get(`${PREFIX}/link/dsl/state`)!).rtt_ms, null);
  // Which link carries express (small non-TCP packets) now, as every LinkStatus field.
  assert.deepEqual(links.map((l) => JSON.parse(kept.get(`${PREFIX}/link/${l.name}/state`)!).express), [true, false]);

  api.current.links[0]!.rtt_ms = 987.5;
  api.current.bond.rx_rate_kbit = 123456;
  await w.waitFor((s) => s.topic === `${PREFIX}/link/lte1/state` && JSON.parse(s.payload).rtt_ms === 987.5, 20_000, 'updated rtt');
  await w.waitFor((s) => s.topic === `${PREFIX}/bond/state` && JSON.parse(s.payload).bond.rx_rate_kbit === 123456, 20_000, 'updated bond rate');
  // And again: every interval, not just once.
  api.current.links[0]!.rtt_ms = 55.5;
  await w.waitFor((s) => s.topic === `${PREFIX}/link/lte1/state` && JSON.parse(s.payload).rtt_ms === 55.5, 20_000, 'second update');
});

test('availability: online while running, offline by last will after kill -9', async (t) => {
  const broker = await startMosquitto();
  t.after(() => broker.dispose());
  const w = await Watch.open(broker.url, [`${PREFIX}/availability`]);
  t.after(() => w.close());
  const runner = fileURLToPath(new URL('./helpers/mqtt-runner.ts', import.meta.url));
  const arg = JSON.stringify({ cfg: mqttConfig(broker.url), hostname: 'testrouter' });
  const child = spawn(process.execPath, ['--import', 'tsx', runner, arg], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (out += d));
  t.after(() => child.kill('SIGKILL'));
  await w.waitFor((s) => s.payload === 'online', 30_000, 'online from the runner').catch((e) => {
    throw new Error(`${e.message}\nrunner output:\n${out}`);
  });
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGKILL');
  await exited;
  const offline = await w.waitFor((s) => s.payload === 'offline', 30_000, 'offline by last will');
  assert.equal(offline.topic, `${PREFIX}/availability`);
  const kept = await retained(broker.url, [`${PREFIX}/availability`]);
  assert.equal(kept.get(`${PREFIX}/availability`), 'offline', 'the will is retained');
});

test('topic_prefix from the config is used as given', async (t) => {
  const broker = await startMosquitto();
  t.after(() => broker.dispose());
  const w = await Watch.open(broker.url, ['site/boat/#']);
  t.after(() => w.close());
  const api = new AgentApiDouble(statusWith([linkStatus('sat')]));
  const h = startMqtt(mqttConfig(broker.url, { topic_prefix: 'site/boat' }), api, { hostname: 'x', log: recordingLogger() });
  t.after(() => h.stop());
  await w.waitFor((s) => s.topic === 'site/boat/link/sat/state', 20_000, 'state under the custom prefix');
  await w.waitFor((s) => s.topic === 'site/boat/availability' && s.payload === 'online', 20_000, 'online under the custom prefix');
});
