// The strict validators: what reaches a command line must not be able to inject an option or
// a shell word, and each refusal says why.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as v from '../../src/config/validators.ts';
import type { z } from 'zod';

function accepts(schema: z.ZodType<unknown, string>, values: string[]): void {
  for (const s of values) assert.equal(v.problem(schema, s), undefined, `should accept ${JSON.stringify(s)}`);
}
function refuses(schema: z.ZodType<unknown, string>, cases: [string, RegExp][]): void {
  for (const [s, why] of cases) {
    const p = v.problem(schema, s);
    assert.ok(p !== undefined, `should refuse ${JSON.stringify(s)}`);
    assert.match(p, why, JSON.stringify(s));
  }
}

/** Values no command-line-bound validator may let through. */
const INJECTIONS = ['-x', '--help', 'a b', 'a;b', 'a|b', 'a&b', '$(id)', '`id`', 'a\nb', "a'b", 'a"b', 'a>b', 'a\\b', ''];

test('netifd interface names', () => {
  accepts(v.interfaceName, ['wan', 'wwan_4', 'WAN2', 'a'.repeat(15)]);
  refuses(v.interfaceName, [
    ['wan;reboot', /not a netifd interface name/],
    ['wan 2', /contains whitespace/],
    ['-wan', /must not start with '-'/],
    ['a'.repeat(16), /longer than 15/],
    ['wan-2', /not a netifd interface name/],
  ]);
  for (const s of INJECTIONS) assert.notEqual(v.problem(v.interfaceName, s), undefined, s);
});

test('Linux device names: IFNAMSIZ, no /, whitespace, : or leading -', () => {
  accepts(v.deviceName, ['eth0', 'eth0.2', 'wwan0', 'lan-1', 'br_lan', 'a'.repeat(15), 'ppp+']);
  refuses(v.deviceName, [
    ['-eth0', /must not start with '-'/],
    ['eth/0', /contains '\/'/],
    ['eth0:1', /contains ':'/],
    ['eth 0', /whitespace/],
    ['a'.repeat(16), /longer than 15 bytes/],
    ['é'.repeat(8), /longer than 15 bytes|characters/],
    ['..', /not a device name/],
    ['eth0\t', /control character|whitespace/],
  ]);
  for (const s of INJECTIONS) assert.notEqual(v.problem(v.deviceName, s), undefined, s);
});

test('hosts: hostname, IPv4 or IPv6 literal', () => {
  accepts(v.host, ['vpn.example.net', 'vpn.example.net.', 'a', '203.0.113.7', '2001:db8::1', '::1', 'xn--bcher-kva.example']);
  refuses(v.host, [
    ['-vpn.example.net', /must not start with '-'/],
    ['vpn..example', /not a hostname/],
    ['vpn_example.net', /not a hostname/],
    ['256.1.1.1', /not a valid IPv4/],
    ['01.2.3.4', /not a valid IPv4/],
    ['[2001:db8::1]', /without brackets/],
    ['fe80::1%eth0', /not a hostname/],
    ['a'.repeat(64) + '.net', /not a hostname/],
  ]);
  for (const s of INJECTIONS) assert.notEqual(v.problem(v.host, s), undefined, s);
});

test('gateway addresses are IP literals only', () => {
  accepts(v.ipAddress, ['192.168.0.1', 'fe80::1', '::ffff:10.0.0.1']);
  refuses(v.ipAddress, [['router.lan', /not an IPv4 or IPv6 address/], ['1.2.3', /not an IPv4 or IPv6/], ['fe80::1%wan', /not an IPv4/]]);
});

test('WireGuard keys: 44 characters of canonical base64 for 32 bytes', () => {
  accepts(v.wireguardKey, ['OGWQX6oK+cF6HOvdDETnc6PAx0z8EJ0dhRm7y6L+oxc=', 'duTKEih9A1uW47G57KUO2/oCVHaX2PU35WF1vjmsdTw=']);
  refuses(v.wireguardKey, [
    ['OGWQX6oK+cF6HOvdDETnc6PAx0z8EJ0dhRm7y6L+oxc', /44 characters/],
    ['OGWQX6oK+cF6HOvdDETnc6PAx0z8EJ0dhRm7y6L+oxd=', /not canonical/],
    ['OGWQX6oK-cF6HOvdDETnc6PAx0z8EJ0dhRm7y6L+oxc=', /not a WireGuard key/],
    ['A'.repeat(43) + '=', /all-zero/],
    ['-GWQX6oK+cF6HOvdDETnc6PAx0z8EJ0dhRm7y6L+oxc=', /not a WireGuard key/],
  ]);
});

test('IPv4 prefixes: strict a.b.c.d/len with no host bits', () => {
  accepts(v.ipv4Cidr, ['10.0.0.0/8', '0.0.0.0/0', '192.168.1.7/32', '10.213.7.0/24']);
  refuses(v.ipv4Cidr, [
    ['10.0.0.0', /not an IPv4 prefix/],
    ['10.0.0.0/33', /not an IPv4 prefix/],
    ['10.0.0.0/08', /not an IPv4 prefix/],
    ['10.0.0.1/24', /host bits set \(did you mean 10\.0\.0\.0\/24\?\)/],
    ['10.0.0.256/32', /not an IPv4 prefix/],
    ['-10.0.0.0/8', /not an IPv4 prefix/],
  ]);
  assert.equal(v.cidrsOverlap('10.0.0.0/8', '10.1.2.0/24'), true);
  assert.equal(v.cidrsOverlap('10.213.7.0/24', '10.213.8.0/24'), false);
});

test('ports and numbers: decimal only, in range', () => {
  accepts(v.port, ['1', '51820', '65535']);
  refuses(v.port, [['0', /out of range \(1\.\.65535\)/], ['65536', /out of range/], ['-1', /not a whole number/], ['0x10', /not a whole number/], ['1e3', /not a whole number/], ['080', /not a whole number/], [' 80', /not a whole number/]]);
  assert.equal(v.integer(1, 10).parse('7'), 7);
  assert.equal(v.decimal(0.01, 60).parse('0.1'), 0.1);
  assert.equal(v.decimal(0.01, 60).parse('.5'), 0.5);
  refuses(v.decimal(0.01, 60, 's'), [['0', /0 s is out of range/], ['1.', /not a number/], ['NaN', /not a number/], ['Infinity', /not a number/]]);
});

test('absolute file paths of plain characters', () => {
  accepts(v.absolutePath, ['/etc/wanbond/keys/wan.key', '/etc/ssl/certs/ca-certificates.crt']);
  refuses(v.absolutePath, [
    ['etc/wanbond', /not an absolute path/],
    ['/etc/../shadow', /'\.\.' component/],
    ['/etc/wan bond', /whitespace/],
    ['/etc/$(id)', /not allowed in a file name/],
    ['/etc/-rf', /component starting with '-'/],
    ['/etc/wanbond/', /directory/],
  ]);
});

test('MQTT broker URLs: mqtt, mqtts, ws, wss with a valid host', () => {
  accepts(v.brokerUrl, ['mqtt://broker.lan', 'mqtts://broker.example.net:8883', 'ws://127.0.0.1:9001/mqtt', 'wss://[2001:db8::1]/mqtt']);
  refuses(v.brokerUrl, [
    ['http://broker.lan', /scheme 'http' is not one of mqtt, mqtts, ws, wss/],
    ['broker.lan:1883', /not a URL/],
    ['mqtt://user:pw@broker.lan', /credentials/],
    ['mqtt://broker.lan/path', /no path/],
    ['mqtt://-broker', /host/],
    ['mqtt://bro ker', /whitespace/],
  ]);
});

test('booleans, topics and client ids', () => {
  assert.equal(v.bool.parse('yes'), true);
  assert.equal(v.bool.parse('disabled'), false);
  refuses(v.bool, [['2', /not a boolean/], ['Yes', /not a boolean/]]);
  accepts(v.topic, ['wanbond/farm', 'homeassistant']);
  refuses(v.topic, [['wanbond/#', /no wildcards/], ['/lead', /not a topic prefix/], ['a//b', /not a topic prefix/]]);
  refuses(v.clientId, [['-id', /not a client id/], ['a b', /not a client id/]]);
});

test('messages show control characters visibly', () => {
  assert.match(v.problem(v.interfaceName, 'wan\n2')!, /'wan\\n2' contains a control character/);
});
