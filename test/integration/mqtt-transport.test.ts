// The MQTT client against a real mosquitto: plain, with a login, with TLS (generated CA, and
// `insecure`). Each test starts its own broker on a free loopback port and stops it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startMqtt } from '../../src/mqtt/index.ts';
import { startMosquitto } from './helpers/mosquitto.ts';
import { Watch } from './helpers/mqtt-watch.ts';
import { AgentApiDouble, linkStatus, statusWith } from './helpers/agent-api-double.ts';
import { mqttConfig, recordingLogger } from './helpers/mqtt-config.ts';

const PREFIX = 'wanbond/testrouter';
const online = (w: Watch) => w.waitFor((s) => s.topic === `${PREFIX}/availability` && s.payload === 'online', 20_000, 'availability online');
const api = () => new AgentApiDouble(statusWith([linkStatus('lte1')]));

test('plain mqtt://: online, a link state, offline on clean stop', async (t) => {
  const broker = await startMosquitto();
  t.after(() => broker.dispose());
  const w = await Watch.open(broker.url, [`${PREFIX}/#`]);
  t.after(() => w.close());
  const log = recordingLogger();
  const h = startMqtt(mqttConfig(broker.url), api(), { hostname: 'testrouter', log });
  await online(w);
  const st = await w.waitFor((s) => s.topic === `${PREFIX}/link/lte1/state`, 20_000, 'link state');
  assert.equal(JSON.parse(st.payload).name, 'lte1');
  await h.stop();
  await w.waitFor((s) => s.topic === `${PREFIX}/availability` && s.payload === 'offline', 20_000, 'offline after stop');
  assert.match(log.text(), /connected to mqtt:\/\/127\.0\.0\.1/);
});

test('username/password: logs in; the password appears in no log line and no payload', async (t) => {
  const secret = 'S3cret-pw-never-logged';
  const broker = await startMosquitto({ auth: { username: 'router', password: secret } });
  t.after(() => broker.dispose());
  const w = await Watch.open(broker.url, ['#'], { username: 'router', password: secret });
  t.after(() => w.close());
  const log = recordingLogger();
  const h = startMqtt(mqttConfig(broker.url, { username: 'router', password: secret }), api(), { hostname: 'testrouter', log });
  t.after(() => h.stop());
  await online(w);
  await w.waitFor((s) => s.topic.startsWith('homeassistant/'), 20_000, 'discovery');
  await w.waitFor((s) => s.topic === `${PREFIX}/bond/state`, 20_000, 'bond state');
  assert.ok(!log.text().includes(secret));
  assert.ok(w.seen.every((s) => !s.payload.includes(secret)));
});

test('password_file and credentials in the broker URL work, and stay out of the logs', async (t) => {
  const secret = 'file-pw-42';
  const broker = await startMosquitto({ auth: { username: 'router', password: secret } });
  t.after(() => broker.dispose());
  const { writeFileSync } = await import('node:fs');
  const { join } = await import('node:path');
  const pwFile = join(broker.dir, 'mqtt.pw');
  writeFileSync(pwFile, secret + '\n', { mode: 0o600 });
  const w = await Watch.open(broker.url, [`${PREFIX}/availability`], { username: 'router', password: secret });
  t.after(() => w.close());
  const log = recordingLogger();
  const h = startMqtt(mqttConfig(broker.url, { username: 'router', password_file: pwFile }), api(), { hostname: 'testrouter', log });
  await online(w);
  await h.stop();
  w.seen.length = 0;
  const inUrl = broker.url.replace('mqtt://', `mqtt://router:${secret}@`);
  const h2 = startMqtt(mqttConfig(inUrl), api(), { hostname: 'testrouter', log });
  t.after(() => h2.stop());
  await online(w);
  assert.ok(!log.text().includes(secret), log.text());
});

test('a wrong password: a clear error in the log, no crash, alerts kept for later', async (t) => {
  const broker = await startMosquitto({ auth: { username: 'router', password: 'right' } });
  t.after(() => broker.dispose());
  const log = recordingLogger();
  const a = api();
  const h = startMqtt(mqttConfig(broker.url, { username: 'router', password: 'wrong-one' }), a, { hostname: 'testrouter', log });
  t.after(() => h.stop());
  const deadline = Date.now() + 20_000;
  while (!/bad user name or password|not authorized/.test(log.text()) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  assert.match(log.text(), /wanbond\[error\]: mqtt: cannot connect to mqtt:\/\/127\.0\.0\.1:\d+: broker refused the login/);
  assert.ok(!log.text().includes('wrong-one'));
  a.link({ link: 'lte1', from: 'up', to: 'down', reason: 'probes lost', rtt_ms: null, loss_pct: 100, time: 1 });
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(h.stats(), { queued: 1, dropped: 0, sent: 0 });
});

test('TLS: mqtts:// with the generated CA as ca_file', async (t) => {
  const broker = await startMosquitto({ tls: true });
  t.after(() => broker.dispose());
  const w = await Watch.open(broker.url, [`${PREFIX}/#`], { ca: (await import('node:fs')).readFileSync(broker.caFile!) });
  t.after(() => w.close());
  const h = startMqtt(mqttConfig(broker.url, { ca_file: broker.caFile }), api(), { hostname: 'testrouter', log: recordingLogger() });
  t.after(() => h.stop());
  await online(w);
  await w.waitFor((s) => s.topic === `${PREFIX}/bond/state`, 20_000, 'bond state over TLS');
});

test('TLS: an untrusted certificate is refused with a clear error; insecure accepts it', async (t) => {
  const broker = await startMosquitto({ tls: true });
  t.after(() => broker.dispose());
  const w = await Watch.open(broker.url, [`${PREFIX}/availability`], { rejectUnauthorized: false });
  t.after(() => w.close());
  const log = recordingLogger();
  const strict = startMqtt(mqttConfig(broker.url), api(), { hostname: 'testrouter', log });
  const deadline = Date.now() + 20_000;
  while (!/TLS/.test(log.text()) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  await strict.stop();
  assert.match(log.text(), /wanbond\[error\]: mqtt: cannot connect to mqtts:\/\/localhost:\d+: TLS: the broker's certificate is not trusted/);
  assert.equal(w.on(`${PREFIX}/availability`).length, 0);

  const loose = startMqtt(mqttConfig(broker.url, { insecure: true }), api(), { hostname: 'testrouter', log: recordingLogger() });
  t.after(() => loose.stop());
  await online(w);
});

test('a broker that is not there: startMqtt returns at once and stop() does not hang', async () => {
  const { freePort } = await import('./helpers/mosquitto.ts');
  const port = await freePort();
  const log = recordingLogger();
  const h = startMqtt(mqttConfig(`mqtt://127.0.0.1:${port}`), api(), { hostname: 'testrouter', log });
  // Returned before any network round trip: nothing has been logged about the broker yet.
  assert.ok(!/mqtt:/.test(log.text()));
  const deadline = Date.now() + 10_000;
  while (!/connection refused/.test(log.text()) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  assert.match(log.text(), /connection refused/);
  await h.stop();
});

test('a config error (unreadable password_file) is logged and nothing starts', async () => {
  const log = recordingLogger();
  const h = startMqtt(mqttConfig('mqtt://127.0.0.1:1', { username: 'u', password_file: '/nonexistent/pw' }), api(), { hostname: 'r', log });
  assert.match(log.text(), /mqtt: not started: mqtt\.password_file: cannot read \/nonexistent\/pw \(ENOENT\)/);
  assert.deepEqual(h.stats(), { queued: 0, dropped: 0, sent: 0 });
  await h.stop();
});

test('WebSocket: ws:// and wss:// (with the generated CA)', async (t) => {
  for (const tls of [false, true]) {
    const broker = await startMosquitto({ websockets: true, tls });
    t.after(() => broker.dispose());
    assert.match(broker.url, tls ? /^wss:\/\// : /^ws:\/\//);
    const ca = broker.caFile ? (await import('node:fs')).readFileSync(broker.caFile) : undefined;
    const w = await Watch.open(broker.url, [`${PREFIX}/#`], { ca });
    t.after(() => w.close());
    const h = startMqtt(mqttConfig(broker.url, { ca_file: broker.caFile }), api(), { hostname: 'testrouter', log: recordingLogger() });
    t.after(() => h.stop());
    await online(w);
    await w.waitFor((s) => s.topic === `${PREFIX}/link/lte1/state`, 20_000, `link state over ${broker.url}`);
  }
});

test('a broker that accepts and never answers: alerts wait in the queue, stop() still returns', async (t) => {
  const { createServer } = await import('node:net');
  const sockets: import('node:net').Socket[] = [];
  const server = createServer((s) => sockets.push(s));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.after(() => {
    for (const s of sockets) s.destroy();
    server.close();
  });
  const port = (server.address() as import('node:net').AddressInfo).port;
  const a = api();
  const h = startMqtt(mqttConfig(`mqtt://127.0.0.1:${port}`), a, { hostname: 'testrouter', log: recordingLogger() });
  const deadline = Date.now() + 20_000;
  while (sockets.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  assert.ok(sockets.length > 0, 'the client connected to the silent server');
  a.link({ link: 'lte1', from: 'up', to: 'down', reason: 'probes lost', rtt_ms: null, loss_pct: 100, time: 7 });
  a.statusEvent({ kind: 'fallback', members: [], reachable: false, fallback: true, reason: 'all tunnels down', time: 8 });
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(h.stats(), { queued: 2, dropped: 0, sent: 0 });
  await h.stop();
});
