// Home Assistant discovery against a real mosquitto: retained config messages with the fields HA
// needs, templates that read fields the state really has, and entities of removed links removed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startMqtt } from '../../src/mqtt/index.ts';
import { startMosquitto } from './helpers/mosquitto.ts';
import { Watch, retained } from './helpers/mqtt-watch.ts';
import { AgentApiDouble, linkStatus, statusWith } from './helpers/agent-api-double.ts';
import { mqttConfig, recordingLogger } from './helpers/mqtt-config.ts';

const PREFIX = 'wanbond/testrouter';
const NODE = 'wanbond_testrouter';
const HA = 'homeassistant';
const cfgTopics = (m: Map<string, string>) => [...m.keys()].filter((k) => k.startsWith(`${HA}/`)).sort();

async function runUntilAnnounced(url: string, api: AgentApiDouble, expectTopic: string, over = {}) {
  const w = await Watch.open(url, [`${HA}/#`, `${PREFIX}/ha_announced`]);
  const h = startMqtt(mqttConfig(url, over), api, { hostname: 'testrouter', log: recordingLogger() });
  await w.waitFor((s) => s.topic === expectTopic, 20_000, expectTopic);
  await w.waitFor((s) => s.topic === `${PREFIX}/ha_announced`, 20_000, 'announced list');
  return { w, h };
}

test('discovery: a device per link under one router device, retained, with fields HA accepts', async (t) => {
  const broker = await startMosquitto();
  t.after(() => broker.dispose());
  const api = new AgentApiDouble(statusWith([linkStatus('lte1'), linkStatus('dsl')]));
  const { w, h } = await runUntilAnnounced(broker.url, api, `${HA}/sensor/${NODE}/link_dsl_upload/config`);
  t.after(() => h.stop());
  t.after(() => w.close());

  // Read back by a new subscriber: only retained messages count, so every config must be retained.
  const kept = await retained(broker.url, [`${HA}/#`, `${PREFIX}/#`]);
  const topics = cfgTopics(kept);
  const perLink = ['binary_sensor/%/link_L_connectivity', 'sensor/%/link_L_status', 'sensor/%/link_L_rtt', 'sensor/%/link_L_jitter',
    'sensor/%/link_L_loss', 'sensor/%/link_L_download', 'sensor/%/link_L_upload'];
  const router = ['sensor/%/bond_download', 'sensor/%/bond_upload', 'sensor/%/bond_members', 'event/%/alert',
    'binary_sensor/%/concentrator', 'binary_sensor/%/fallback'];
  const expected = [
    ...router,
    ...['lte1', 'dsl'].flatMap((l) => perLink.map((p) => p.replace('L', l))),
  ].map((p) => `${HA}/${p.replace('%', NODE)}/config`).sort();
  assert.deepEqual(topics, expected);

  const uniqueIds = new Set<string>();
  for (const topic of topics) {
    const c = JSON.parse(kept.get(topic)!);
    assert.equal(c.availability_topic, `${PREFIX}/availability`, topic);
    assert.equal(c.payload_available, 'online');
    assert.equal(c.payload_not_available, 'offline');
    assert.ok(typeof c.unique_id === 'string' && c.unique_id.startsWith(NODE), topic);
    uniqueIds.add(c.unique_id);
    assert.deepEqual(Object.keys(c.device).filter((k) => k !== 'via_device').sort(), ['identifiers', 'manufacturer', 'model', 'name', 'sw_version']);
    assert.equal(c.device.manufacturer, 'wanbond');
    assert.ok(Array.isArray(c.device.identifiers) && c.device.identifiers.length === 1);

    // Every template reads fields that the state topic it points at really carries.
    if (c.state_topic !== `${PREFIX}/alert`) {
      const state = JSON.parse(kept.get(c.state_topic)!);
      for (const m of String(c.value_template).matchAll(/value_json\.([a-z_.]+)/g)) {
        const value = m[1]!.split('.').reduce((o: any, k) => (o == null ? undefined : o[k]), state);
        assert.notEqual(value, undefined, `${topic}: ${m[1]} not in ${c.state_topic}`);
      }
    }
  }
  assert.equal(uniqueIds.size, topics.length, 'unique_id unique per entity');

  const conn = JSON.parse(kept.get(`${HA}/binary_sensor/${NODE}/link_lte1_connectivity/config`)!);
  assert.equal(conn.device_class, 'connectivity');
  assert.equal(conn.state_topic, `${PREFIX}/link/lte1/state`);
  assert.equal(conn.device.name, 'testrouter lte1');
  assert.equal(conn.device.via_device, NODE);
  const rtt = JSON.parse(kept.get(`${HA}/sensor/${NODE}/link_lte1_rtt/config`)!);
  assert.deepEqual([rtt.device_class, rtt.unit_of_measurement, rtt.state_class], ['duration', 'ms', 'measurement']);
  const loss = JSON.parse(kept.get(`${HA}/sensor/${NODE}/link_lte1_loss/config`)!);
  assert.deepEqual([loss.unit_of_measurement, loss.state_class], ['%', 'measurement']);
  const down = JSON.parse(kept.get(`${HA}/sensor/${NODE}/link_dsl_download/config`)!);
  assert.deepEqual([down.device_class, down.unit_of_measurement, down.state_class], ['data_rate', 'kbit/s', 'measurement']);
  const total = JSON.parse(kept.get(`${HA}/sensor/${NODE}/bond_download/config`)!);
  assert.deepEqual([total.device_class, total.unit_of_measurement, total.device.identifiers], ['data_rate', 'kbit/s', [NODE]]);
  const alert = JSON.parse(kept.get(`${HA}/event/${NODE}/alert/config`)!);
  assert.equal(alert.state_topic, `${PREFIX}/alert`);
  assert.ok(alert.event_types.includes('link_down') && alert.event_types.includes('concentrator_unreachable'));
});

test('a link removed from the config while wanbond was stopped: its entities are removed on the next start', async (t) => {
  const broker = await startMosquitto();
  t.after(() => broker.dispose());
  const first = await runUntilAnnounced(broker.url, new AgentApiDouble(statusWith([linkStatus('lte1'), linkStatus('dsl')])), `${HA}/sensor/${NODE}/link_dsl_upload/config`);
  await first.h.stop();
  await first.w.close();
  assert.ok(cfgTopics(await retained(broker.url, [`${HA}/#`])).some((tp) => tp.includes('link_dsl_')));

  const w = await Watch.open(broker.url, [`${HA}/#`]);
  t.after(() => w.close());
  const h = startMqtt(mqttConfig(broker.url), new AgentApiDouble(statusWith([linkStatus('lte1')])), { hostname: 'testrouter', log: recordingLogger() });
  t.after(() => h.stop());
  // Live: an empty retained config for each of dsl's seven entities.
  await w.waitForCount((s) => s.topic.includes('/link_dsl_') && s.payload === '' && !s.retain, 7, 20_000, 'empty dsl configs');
  const after = cfgTopics(await retained(broker.url, [`${HA}/#`]));
  assert.ok(!after.some((tp) => tp.includes('link_dsl_')), after.join('\n'));
  assert.ok(after.includes(`${HA}/sensor/${NODE}/link_lte1_rtt/config`));
  const list = JSON.parse((await retained(broker.url, [`${PREFIX}/ha_announced`])).get(`${PREFIX}/ha_announced`)!);
  assert.ok(!list.topics.some((tp: string) => tp.includes('link_dsl_')));
});

test('a link removed at run time (reload): its entities are removed at once', async (t) => {
  const broker = await startMosquitto();
  t.after(() => broker.dispose());
  const api = new AgentApiDouble(statusWith([linkStatus('lte1'), linkStatus('sat')]));
  const { w, h } = await runUntilAnnounced(broker.url, api, `${HA}/sensor/${NODE}/link_sat_upload/config`);
  t.after(() => h.stop());
  t.after(() => w.close());
  api.current = statusWith([linkStatus('lte1')]);
  await w.waitForCount((s) => s.topic.includes('/link_sat_') && s.payload === '', 7, 20_000, 'empty sat configs');
  const after = cfgTopics(await retained(broker.url, [`${HA}/#`]));
  assert.ok(!after.some((tp) => tp.includes('link_sat_')));
  assert.ok(after.some((tp) => tp.includes('link_lte1_')));
});

test('ha_discovery off: what an earlier run announced is taken back', async (t) => {
  const broker = await startMosquitto();
  t.after(() => broker.dispose());
  const first = await runUntilAnnounced(broker.url, new AgentApiDouble(statusWith([linkStatus('lte1')])), `${HA}/sensor/${NODE}/link_lte1_upload/config`);
  await first.h.stop();
  await first.w.close();
  const w = await Watch.open(broker.url, [`${HA}/#`, `${PREFIX}/#`]);
  t.after(() => w.close());
  const h = startMqtt(mqttConfig(broker.url, { ha_discovery: false }), new AgentApiDouble(statusWith([linkStatus('lte1')])), { hostname: 'testrouter', log: recordingLogger() });
  t.after(() => h.stop());
  await w.waitFor((s) => s.topic === `${PREFIX}/ha_announced` && s.payload === '' && !s.retain, 20_000, 'announced list cleared');
  const kept = await retained(broker.url, [`${HA}/#`, `${PREFIX}/ha_announced`]);
  assert.deepEqual(cfgTopics(kept), []);
  assert.ok(!kept.has(`${PREFIX}/ha_announced`));
  // States are still published without discovery.
  await w.waitFor((s) => s.topic === `${PREFIX}/link/lte1/state`, 20_000, 'state');
});

test('Home Assistant restarts (homeassistant/status online): discovery and states are sent again', async (t) => {
  const broker = await startMosquitto();
  t.after(() => broker.dispose());
  const api = new AgentApiDouble(statusWith([linkStatus('lte1')]));
  const { w, h } = await runUntilAnnounced(broker.url, api, `${HA}/sensor/${NODE}/link_lte1_rtt/config`, { interval: 3600 });
  t.after(() => h.stop());
  t.after(() => w.close());
  const before = w.on(`${HA}/sensor/${NODE}/link_lte1_rtt/config`).length;
  await w.client.publishAsync(`${HA}/status`, 'online', { qos: 1 });
  await w.waitForCount((s) => s.topic === `${HA}/sensor/${NODE}/link_lte1_rtt/config`, before + 1, 20_000, 'discovery sent again');
});
