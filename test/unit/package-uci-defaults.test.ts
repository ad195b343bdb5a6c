// files/etc/uci-defaults/90-wanbond-firewall, run the way OpenWrt runs uci-defaults scripts
// (`( . ./script ) && rm -f script`, by /etc/init.d/boot and opkg's default_postinst), against the
// uci test double (test/doubles/uci-cli) on a firewall config like fw4's default one.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseUci } from '../../src/config/uci-parse.ts';
import type { UciDocument, UciSection } from '../../src/config/uci-document.ts';
import { buildIpk } from '../../scripts/lib/ipk.mjs';
import { readTarGz } from '../../scripts/lib/tar.mjs';
import { wanbondIpkSpec } from '../../scripts/lib/wanbond-package.mjs';
import { HEALTH_PORT } from '../../src/health/probe-socket.ts';
import { ROUTER_BOND, routerExpress, routerGretap, routerWg } from '../../src/plan/addressing.ts';

const SCRIPT = resolve('files/etc/uci-defaults/90-wanbond-firewall');
const UCI_DOUBLE = resolve('test/doubles/uci-cli');

// fw4's /etc/config/firewall as OpenWrt 23.05 ships it (abridged: two of its rules).
const FW4_DEFAULT = `
config defaults
	option syn_flood	1
	option input		REJECT
	option output		ACCEPT
	option forward		REJECT

config zone
	option name		lan
	list   network		'lan'
	option input		ACCEPT
	option output		ACCEPT
	option forward		ACCEPT

config zone
	option name		wan
	list   network		'wan'
	list   network		'wan6'
	option input		REJECT
	option output		ACCEPT
	option forward		REJECT
	option masq		1
	option mtu_fix		1

config forwarding
	option src		lan
	option dest		wan

config rule
	option name		Allow-DHCP-Renew
	option src		wan
	option proto		udp
	option dest_port	68
	option target		ACCEPT
	option family		ipv4

config rule
	option name		Allow-Ping
	option src		wan
	option proto		icmp
	option icmp_type	echo-request
	option family		ipv4
	option target		ACCEPT
`;

interface Run {
  code: number;
  firewall: string | null;
  ubus: string[];
  delta: string[];
}

/** A fresh root with /etc/config/firewall = `firewall` (or none), the script run there `times` times. */
function runScript(firewall: string | null, times = 1): Run[] {
  const root = mkdtempSync(join(tmpdir(), 'wb-ucidef-'));
  const conf = join(root, 'etc/config');
  const bin = join(root, 'bin');
  mkdirSync(conf, { recursive: true });
  mkdirSync(bin);
  if (firewall !== null) writeFileSync(join(conf, 'firewall'), firewall);
  // ubus stand-in: records its arguments (the script signals procd when it changed something).
  writeFileSync(join(bin, 'ubus'), `#!/bin/sh\necho "$*" >> ${root}/ubus.log\n`);
  chmodSync(join(bin, 'ubus'), 0o755);
  const env = { PATH: `${UCI_DOUBLE}:${bin}:${process.env['PATH']}`, UCI_TEST_CONFDIR: conf, UCI_TEST_SAVEDIR: join(root, 'tmp/.uci') };
  const out: Run[] = [];
  for (let i = 0; i < times; i++) {
    let code = 0;
    try {
      execFileSync('sh', ['-c', '( . "$1" )', 'sh', SCRIPT], { env, cwd: root, stdio: 'pipe' });
    } catch (e) {
      code = (e as { status: number }).status;
    }
    const log = join(root, 'ubus.log');
    const saves = join(root, 'tmp/.uci');
    out.push({
      code,
      firewall: existsSync(join(conf, 'firewall')) ? readFileSync(join(conf, 'firewall'), 'utf8') : null,
      ubus: existsSync(log) ? readFileSync(log, 'utf8').trim().split('\n') : [],
      delta: existsSync(saves) ? readdirSync(saves) : [],
    });
  }
  return out;
}

function doc(text: string): UciDocument {
  const r = parseUci(text, 'firewall');
  assert.ok(r.ok, JSON.stringify(!r.ok && r.errors));
  return r.doc;
}
const opts = (s: UciSection) => Object.fromEntries(s.options.map((o) => [o.name, o.kind === 'option' ? o.value : o.values]));
const strip = (s: UciSection) => ({ type: s.type, options: opts(s) });

test('on fw4\'s default config: a zone wanbond for the bond and its tunnels, the health port and GRE accepted from it, a forwarding lan -> wanbond, committed', () => {
  const [r] = runScript(FW4_DEFAULT);
  assert.equal(r!.code, 0);
  const before = doc(FW4_DEFAULT).sections.map(strip);
  const after = doc(r!.firewall!).sections;
  assert.deepEqual(after.slice(0, before.length).map(strip), before, 'what was there is unchanged, in order');
  assert.deepEqual(after.slice(before.length).map(strip), [
    { type: 'zone', options: { name: 'wanbond', device: ['wbond', 'wbl+', 'wbg+', 'wbx+'], input: 'REJECT', output: 'ACCEPT', forward: 'REJECT', mtu_fix: '1' } },
    { type: 'rule', options: { name: 'Allow-wanbond-health', src: 'wanbond', proto: 'udp', dest_port: String(HEALTH_PORT), target: 'ACCEPT' } },
    { type: 'rule', options: { name: 'Allow-wanbond-gre', src: 'wanbond', proto: 'gre', target: 'ACCEPT' } },
    { type: 'forwarding', options: { src: 'lan', dest: 'wanbond' } },
  ]);
  assert.ok(after.slice(before.length).every((s) => s.anonymous), 'anonymous sections, as fw4\'s own');
  assert.deepEqual(r!.delta, [], 'committed: no change left pending');
  assert.deepEqual(r!.ubus, ['call service event {"type":"config.change","data":{"package":"firewall"}}']);
});

test('idempotent: a second run (an upgrade reinstalls the script) adds nothing and signals nothing', () => {
  const [first, second] = runScript(FW4_DEFAULT, 2);
  assert.equal(second!.code, 0);
  assert.equal(second!.firewall, first!.firewall);
  assert.equal(second!.ubus.length, 1, 'only the first run signalled procd');
});

test('a zone the user made for the bond is respected: by name, or any zone with device wbond', () => {
  const own = `${FW4_DEFAULT}\nconfig zone\n\toption name 'wanbond'\n\tlist device 'wbond'\n\toption input 'ACCEPT'\n\toption forward 'ACCEPT'\n`;
  const [a] = runScript(own);
  assert.equal(a!.code, 0);
  assert.equal(a!.firewall, own, 'not even rewritten');
  assert.deepEqual(a!.ubus, []);
  const other = `${FW4_DEFAULT}\nconfig zone 'vpn'\n\toption name 'vpn'\n\tlist device 'wg0'\n\tlist device 'wbond'\n\nconfig forwarding\n\toption src 'lan'\n\toption dest 'vpn'\n`;
  const [b] = runScript(other);
  assert.equal(b!.code, 0);
  assert.equal(b!.firewall, other);
});

test('upgrade: the zone an older wanbond made (wbond, wbl+, wbg+) gets the express tunnels wbx+, once; nothing else changes', () => {
  const old = `${FW4_DEFAULT}\nconfig zone\n\toption name 'wanbond'\n\tlist device 'wbond'\n\tlist device 'wbl+'\n\tlist device 'wbg+'\n\toption input 'REJECT'\n`;
  const [first, second] = runScript(old, 2);
  assert.equal(first!.code, 0);
  const zone = doc(first!.firewall!).sections.find((s) => opts(s)['name'] === 'wanbond')!;
  assert.deepEqual(opts(zone)['device'], ['wbond', 'wbl+', 'wbg+', 'wbx+']);
  assert.equal(doc(first!.firewall!).sections.length, doc(old).sections.length, 'no section added');
  assert.deepEqual(first!.delta, [], 'committed');
  assert.equal(second!.firewall, first!.firewall, 'a second run adds nothing');
  assert.equal(second!.ubus.length, 1, 'only the run that changed it signalled procd');
});

test('no lan zone: the zone only; a forwarding lan -> wanbond already there is not doubled', () => {
  const noLan = FW4_DEFAULT.replace(/config zone\n\toption name\t\tlan\n[\s\S]*?\n\n/, '').replace(/config forwarding\n[^\n]*\n[^\n]*\n/, '');
  assert.doesNotMatch(noLan, /lan/);
  const [a] = runScript(noLan);
  const added = doc(a!.firewall!).sections.slice(doc(noLan).sections.length);
  assert.deepEqual(added.map((s) => s.type), ['zone', 'rule', 'rule']);

  const fwd = `${FW4_DEFAULT}\nconfig forwarding\n\toption src 'lan'\n\toption dest 'wanbond'\n`;
  const [b] = runScript(fwd);
  const after = doc(b!.firewall!).sections;
  assert.deepEqual(after.slice(doc(fwd).sections.length).map((s) => s.type), ['zone', 'rule', 'rule']);
  assert.equal(after.filter((s) => s.type === 'forwarding' && opts(s)['dest'] === 'wanbond').length, 1);
});

test('no firewall config at all: nothing is created, the script still succeeds (and is deleted)', () => {
  const [r] = runScript(null);
  assert.equal(r!.code, 0);
  assert.equal(r!.firewall, null);
  assert.deepEqual(r!.ubus, []);
});

test('the .ipk ships it as /etc/uci-defaults/90-wanbond-firewall, executable', () => {
  if (!existsSync('dist/wanbond.js')) execFileSync(process.execPath, ['scripts/build.mjs'], { stdio: 'pipe' });
  const ipk = readTarGz(buildIpk(wanbondIpkSpec()).buffer);
  const data = readTarGz(ipk.find((e) => e.path === './data.tar.gz')!.content);
  const e = data.find((x) => x.path === './etc/uci-defaults/90-wanbond-firewall');
  assert.ok(e, 'in the data archive');
  assert.equal(e!.mode, 0o755);
  assert.ok(e!.content.equals(readFileSync(SCRIPT)));
  assert.ok(!wanbondIpkSpec().conffiles?.includes('/etc/uci-defaults/90-wanbond-firewall'), 'not a conffile: opkg deletes it after running it');
});

test('the zone\'s devices are the names the router\'s planner gives the bond, tunnels and gretaps', () => {
  const script = readFileSync(SCRIPT, 'utf8');
  const devices = [...script.matchAll(/device='([^']+)'/g)].map((m) => m[1]!);
  const matches = (name: string) => devices.some((d) => (d.endsWith('+') ? name.startsWith(d.slice(0, -1)) : name === d));
  for (const name of [ROUTER_BOND, routerWg(1), routerWg(8), routerGretap(3, 2), routerExpress(4)]) assert.ok(matches(name), `${name} in ${devices}`);
});
