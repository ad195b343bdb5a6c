// Alerts against a real mosquitto: QoS 1, not retained, the event's own time; raised while the
// broker is away they wait in a bounded queue and arrive once each, in order, when it is back.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import type { StatusEvent } from '../../src/agent/api.ts';
import type { LinkEvent } from '../../src/status/types.ts';
import { startMqtt } from '../../src/mqtt/index.ts';
import { startMosquitto, type Broker } from './helpers/mosquitto.ts';
import { Watch, retained } from './helpers/mqtt-watch.ts';
import { AgentApiDouble, linkStatus, statusWith } from './helpers/agent-api-double.ts';
import { mqttConfig, recordingLogger } from './helpers/mqtt-config.ts';

const PREFIX = 'wanbond/testrouter';
const ALERT = `${PREFIX}/alert`;
const linkDown = (link: string, time: number): LinkEvent => ({ link, from: 'up', to: 'down', reason: '10 probes lost', rtt_ms: null, loss_pct: 100, time });
const linkUp = (link: string, time: number): LinkEvent => ({ link, from: 'down', to: 'up', reason: 'probes answered', rtt_ms: 48, loss_pct: 0, time });
const conc = (reachable: boolean, time: number): StatusEvent => ({ kind: 'concentrator', members: [], reachable, fallback: false, reason: 'no handshake', time });
const fallback = (on: boolean, time: number): StatusEvent => ({ kind: 'fallback', members: [], reachable: false, fallback: on, reason: 'all tunnels down', time });

async function until(cond: () => boolean, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** A subscriber with a persistent session: the broker keeps its alerts while it reconnects after a restart. */
function alertWatch(b: Broker): Promise<Watch> {
  return Watch.open(b.url, [ALERT], { clientId: `alert-watch-${b.port}`, clean: false });
}

/** A broker, a subscriber to alerts and availability, and wanbond's client connected to them. */
async function running(t: TestContext) {
  const broker = await startMosquitto();
  t.after(() => broker.dispose());
  const w = await Watch.open(broker.url, [ALERT, `${PREFIX}/availability`]);
  t.after(() => w.close());
  const api = new AgentApiDouble(statusWith([linkStatus('lte1')]));
  const h = startMqtt(mqttConfig(broker.url), api, { hostname: 'testrouter', log: recordingLogger() });
  await w.waitFor((s) => s.payload === 'online', 20_000, 'online');
  return { broker, w, api, h };
}

test('an alert: QoS 1, not retained, with type, reason, message and the time it happened', async (t) => {
  const { broker, w, api, h } = await running(t);
  t.after(() => h.stop());

  api.link({ link: 'lte1', from: 'up', to: 'degraded', reason: 'latency 950 ms over 800', rtt_ms: 950, loss_pct: 2, time: 1_700_000_123 });
  const got = await w.waitFor((s) => s.topic === ALERT, 20_000, 'alert');
  assert.equal(got.qos, 1);
  assert.equal(got.retain, false);
  const a = JSON.parse(got.payload);
  assert.equal(a.event_type, 'link_degraded');
  assert.equal(a.link, 'lte1');
  assert.equal(a.from, 'up');
  assert.equal(a.to, 'degraded');
  assert.equal(a.reason, 'latency 950 ms over 800');
  assert.equal(a.time, 1_700_000_123);
  assert.match(a.message, /lte1 degraded: latency 950 ms over 800/);

  api.statusEvent(fallback(true, 1_700_000_200));
  const fb = await w.waitFor((s) => s.topic === ALERT && JSON.parse(s.payload).event_type === 'fallback_engaged', 20_000, 'fallback alert');
  assert.equal(JSON.parse(fb.payload).time, 1_700_000_200);
  // Bond membership changes are not alerts.
  api.statusEvent({ kind: 'bond', members: ['lte1'], reachable: true, fallback: false, reason: 'lte1 joined', time: 1_700_000_201 });
  api.statusEvent(conc(false, 1_700_000_202));
  await w.waitFor((s) => s.topic === ALERT && JSON.parse(s.payload).event_type === 'concentrator_unreachable', 20_000, 'concentrator alert');
  assert.deepEqual(w.on(ALERT).map((s) => JSON.parse(s.payload).event_type), ['link_degraded', 'fallback_engaged', 'concentrator_unreachable']);
  assert.ok(!(await retained(broker.url, [ALERT])).has(ALERT), 'alerts are not retained');
  await until(() => h.stats().sent === 3, 20_000, 'sent count');
  assert.deepEqual(h.stats(), { queued: 0, dropped: 0, sent: 3 });
});

test('broker away: alerts queue, then arrive exactly once, in order, with their original times', async (t) => {
  const broker = await startMosquitto({ persistence: true });
  t.after(() => broker.dispose());
  const w = await alertWatch(broker);
  t.after(() => w.close());
  const api = new AgentApiDouble(statusWith([linkStatus('lte1'), linkStatus('dsl')]));
  const log = recordingLogger();
  const h = startMqtt(mqttConfig(broker.url), api, { hostname: 'testrouter', log });
  t.after(() => h.stop());
  api.link(linkUp('dsl', 1000)); // delivered live, before the outage
  await w.waitFor((s) => s.topic === ALERT, 20_000, 'first alert');

  await broker.stop();
  await until(() => /lost the connection/.test(log.text()), 20_000, 'the client to notice');
  const raised = [
    () => api.link(linkDown('lte1', 2001)),
    () => api.link(linkDown('dsl', 2002)),
    () => api.statusEvent(conc(false, 2003)),
    () => api.statusEvent(fallback(true, 2004)),
    () => api.link(linkUp('lte1', 2005)),
    () => api.statusEvent(fallback(false, 2006)),
    () => api.statusEvent(conc(true, 2007)),
  ];
  for (const r of raised) r();
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(h.stats(), { queued: 7, dropped: 0, sent: 1 });

  await broker.start();
  await until(() => h.stats().sent === 8, 60_000, 'all queued alerts delivered');
  // Barrier: our own marker comes back after everything the broker forwarded before it.
  await w.client.subscribeAsync('wanbond-test/marker', { qos: 1 });
  await w.client.publishAsync('wanbond-test/marker', 'm', { qos: 1 });
  await w.waitFor((s) => s.topic === 'wanbond-test/marker', 20_000, 'marker');
  const alerts = w.on(ALERT).map((s) => JSON.parse(s.payload));
  assert.deepEqual(alerts.map((a) => a.time), [1000, 2001, 2002, 2003, 2004, 2005, 2006, 2007]);
  assert.deepEqual(alerts.map((a) => a.event_type), [
    'link_up', 'link_down', 'link_down', 'concentrator_unreachable', 'fallback_engaged', 'link_up', 'fallback_released', 'concentrator_back',
  ]);
  assert.ok(alerts.every((a) => a.dropped === undefined));
  assert.deepEqual(h.stats(), { queued: 0, dropped: 0, sent: 8 });
});

test('queue full: the oldest are dropped, counted in stats and told in the next alert delivered', async (t) => {
  const broker = await startMosquitto({ persistence: true });
  t.after(() => broker.dispose());
  const w = await alertWatch(broker);
  t.after(() => w.close());
  await broker.stop();
  const api = new AgentApiDouble(statusWith([linkStatus('lte1')]));
  const h = startMqtt(mqttConfig(broker.url), api, { hostname: 'testrouter', log: recordingLogger(), queueLimit: 3 });
  t.after(() => h.stop());
  for (let i = 1; i <= 5; i++) api.link(i % 2 ? linkDown('lte1', 3000 + i) : linkUp('lte1', 3000 + i));
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(h.stats(), { queued: 3, dropped: 2, sent: 0 });

  await broker.start();
  await until(() => h.stats().sent === 3, 90_000, 'the three kept alerts delivered');
  const alerts = (await w.waitForCount((s) => s.topic === ALERT, 3, 20_000, 'alerts')).map((s) => JSON.parse(s.payload));
  assert.deepEqual(alerts.map((a) => a.time), [3003, 3004, 3005]);
  assert.equal(alerts[0].dropped, 2);
  assert.equal(alerts[1].dropped, undefined);
  assert.deepEqual(h.stats(), { queued: 0, dropped: 2, sent: 3 });
});

test('a frozen broker (SIGSTOP): events still return at once, alerts wait, stop() does not hang', async (t) => {
  const { broker, w, api, h } = await running(t);

  await broker.pause();
  t.after(() => broker.resume());
  for (let i = 1; i <= 20; i++) api.link(i % 2 ? linkDown('lte1', 4000 + i) : linkUp('lte1', 4000 + i));
  // The event loop keeps turning while the broker answers nothing.
  let turns = 0;
  await new Promise<void>((res) => {
    const iv = setInterval(() => {
      if (++turns === 10) {
        clearInterval(iv);
        res();
      }
    }, 20);
  });
  assert.equal(h.stats().sent, 0);
  assert.equal(h.stats().queued, 20);

  broker.resume();
  await until(() => h.stats().sent === 20, 60_000, 'alerts after the broker thawed');
  const times = (await w.waitForCount((s) => s.topic === ALERT, 20, 20_000, 'alerts')).map((s) => JSON.parse(s.payload).time);
  assert.deepEqual(times, Array.from({ length: 20 }, (_, i) => 4001 + i));

  await broker.pause();
  await h.stop(); // bounded: it gives a frozen broker a short while, then lets go
  broker.resume();
});
