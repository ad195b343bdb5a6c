// The settings page's validators (luci-app-wanbond's wanbond/validate.js, run here as LuCI would
// load it) accept exactly what the agent's config schema accepts, value for value, so the form
// refuses while typing what the agent would refuse on reload.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import type { z } from 'zod';
import { SECTIONS } from '../../src/config/schema.ts';
import { checkIPv4Cidr, parseIPv4Cidr } from '../../src/config/validators.ts';

type Check = (v: string) => true | string;

// LuCI's runtime gives a module baseclass, _() and String.prototype.format; the subset used.
function loadValidators(): Record<string, Check> {
  const src = readFileSync(new URL('../../luci/luci-app-wanbond/htdocs/luci-static/resources/wanbond/validate.js', import.meta.url), 'utf8');
  const baseclass = { extend: (props: Record<string, Check>) => props };
  const format = function (this: string, ...args: unknown[]): string {
    let i = 0;
    return this.replace(/%([sd%])/g, (_m, t: string) => (t === '%' ? '%' : String(args[i++])));
  };
  const proto = String.prototype as unknown as { format?: unknown };
  if (proto.format === undefined) Object.defineProperty(proto, 'format', { value: format, configurable: true });
  return new Function('baseclass', '_', src)(baseclass, (s: string) => s) as Record<string, Check>;
}

const schema = (section: string, option: string): z.ZodType<unknown, string> => {
  const s = SECTIONS[section]?.options[option]?.schema;
  assert.ok(s, `${section}.${option} in the schema`);
  return s;
};

// [client validator, the agent's rule for the same option]
const PAIRS: Array<[string, (v: string) => boolean]> = [
  ['linkName', (v) => /^[A-Za-z0-9_]{1,12}$/.test(v)], // semantics.ts: checkSectionName(LINK_NAME_MAX)
  ['siteName', (v) => schema('concentrator', 'site').safeParse(v).success],
  ['interfaceName', (v) => schema('link', 'interface').safeParse(v).success],
  ['linkId', (v) => schema('link', 'id').safeParse(v).success],
  ['weight', (v) => schema('link', 'weight').safeParse(v).success],
  ['rate', (v) => schema('link', 'rate_down').safeParse(v).success],
  ['port', (v) => schema('concentrator', 'port').safeParse(v).success],
  ['fallbackTimeout', (v) => schema('globals', 'fallback_timeout').safeParse(v).success],
  ['shaping', (v) => schema('globals', 'shaping').safeParse(v).success],
  ['expressBytes', (v) => schema('globals', 'express_bytes').safeParse(v).success],
  ['mtu', (v) => schema('globals', 'mtu').safeParse(v).success],
  ['mqttInterval', (v) => schema('mqtt', 'interval').safeParse(v).success],
  ['probeInterval', (v) => schema('health', 'interval').safeParse(v).success],
  ['latency', (v) => schema('health', 'failure_latency').safeParse(v).success && schema('health', 'recovery_latency').safeParse(v).success],
  ['failureLoss', (v) => schema('health', 'failure_loss').safeParse(v).success],
  ['recoveryLoss', (v) => schema('health', 'recovery_loss').safeParse(v).success],
  ['probeCount', (v) => schema('health', 'down').safeParse(v).success && schema('health', 'up').safeParse(v).success],
  ['host', (v) => schema('concentrator', 'host').safeParse(v).success],
  ['wgKey', (v) => schema('concentrator', 'public_key').safeParse(v).success],
  ['ipv4Cidr', (v) => schema('globals', 'bypass_dst').safeParse(v).success],
  ['subnet24', (v) => checkIPv4Cidr(v) === undefined && parseIPv4Cidr(v)?.prefix === 24], // + semantics.ts: a /24
  ['absolutePath', (v) => schema('mqtt', 'ca_file').safeParse(v).success],
  ['broker', (v) => schema('mqtt', 'broker').safeParse(v).success],
  ['topic', (v) => schema('mqtt', 'topic_prefix').safeParse(v).success],
  ['clientId', (v) => schema('mqtt', 'client_id').safeParse(v).success],
  ['text', (v) => schema('mqtt', 'username').safeParse(v).success],
];

const KEY = 'xTIBA5rboUvnH4htodjb6e697QjLERt1NAB4mZqp8Dg=';
const SAMPLES = [
  '', ' ', '0', '1', '01', '5', '9', '10', '12', '16', '17', '49', '50', '95', '100', '101', '250', '575', '576', '1380', '9000', '9001',
  '1000', '1001', '3600', '3601', '60000', '60001', '65535', '65536', '10000000', '10000001', '1e3', '-1', ' 5', '5 ',
  '0.1', '.5', '0.01', '0.009', '60', '60.5', '60.0', '1.1234567', 'auto', 'Auto',
  'wan', 'wwan_2', 'lte-1', 'a'.repeat(12), 'a'.repeat(13), 'a'.repeat(15), 'a'.repeat(16), 'eth0.1', '-eth0',
  'vpn.example.net', 'vpn', '-vpn', 'vpn..x', 'a_b.example', 'vpn.example.net.', 'x-.example', '1.2.3', '1.2.3.4.5',
  '192.0.2.1', '256.1.1.1', '010.1.1.1', '::1', '2001:db8::1', '[::1]', 'fe80::1%eth0', '2001:db8::1.2.3.4', '1:2:3:4:5:6:7:8', '1:2:3:4:5:6:7:8:9', ':::1',
  '::ffff:1.2.3.4', '1::', '::', '1:2:3:4:5:6:7::', '12345::1', 'g::1', '::1.2.3', '1.2.3.4::', '::01.2.3.4', 'FE80::A',
  '1.2.3.4/24', '10.213.7.0/24', '10.213.7.1/24', '10.0.0.0/8', '10.0.0.0/33', '10.0.0.0/08', '0.0.0.0/0', '192.0.2.0/24 ', '2001:db8::/32',
  KEY, KEY.replace('Dg=', 'Dh='), 'A'.repeat(43) + '=', KEY.slice(1), KEY + 'A', KEY.replace('=', 'A'),
  '/etc/ssl/ca.pem', 'etc/x', '/etc/../x', '/tmp/-x', '/dir/', '/a b', '/a;b', '/',
  'mqtt://192.168.1.10', 'mqtts://broker.example.net:8883', 'ws://h.example/path', 'mqtt://h.example/path', 'mqtt://user:pw@h.example',
  'http://h.example', 'mqtt://h.example?x=1', 'mqtt://[::1]:1883', 'mqtt://-h', 'MQTT://h.example', 'mqtt://h.example:99999', 'mqtt://h.example/',
  'wanbond/farm', 'wanbond/#', '/lead', 'trail/', 'a//b', 'a+b', 'client-1', 'client.1', '-client', 'x'.repeat(65), 'x'.repeat(129),
  'hello world', 'tab\there', 'ünicode', 'x'.repeat(257),
];

describe('settings form validators', () => {
  const validators = loadValidators();

  it('has a client rule for each of the agent\'s rules used by the form', () => {
    for (const [name] of PAIRS) assert.equal(typeof validators[name], 'function', name);
  });

  for (const [name, agent] of PAIRS) {
    it(`${name} accepts exactly what the agent accepts`, () => {
      const fn = validators[name]!;
      const disagree = SAMPLES.filter((v) => (fn(v) === true) !== agent(v)).map((v) => `${JSON.stringify(v)}: form ${fn(v) === true ? 'accepts' : 'refuses'}, agent ${agent(v) ? 'accepts' : 'refuses'}`);
      assert.deepEqual(disagree, []);
      // refusals come with words, not just false
      for (const v of SAMPLES) {
        const r = fn(v);
        assert.ok(r === true || (typeof r === 'string' && r.length > 5), `${name}(${JSON.stringify(v)}) explains itself`);
      }
    });
  }
});
