// Loading /etc/config/wanbond: valid files give the typed Config with defaults; broken ones
// give every problem as PATH:LINE: section.option: message. The fixtures are run through the
// built bundle (dist/wanbond.js, `make test` builds it first) as a user runs check-config.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { loadConfigFile, loadConfigText, formatConfigError } from '../../src/config/load.ts';
import { SECTIONS } from '../../src/config/schema.ts';
import { configToDocument } from '../../src/config/print.ts';
import { defaultConfigPath, GLOBALS_DEFAULTS, HEALTH_DEFAULTS, MQTT_DEFAULTS } from '../../src/config/defaults.ts';

const VALID = 'test/fixtures/config/valid';
const INVALID = 'test/fixtures/config/invalid';
const SHIPPED = 'files/etc/config/wanbond';
const BUNDLE = resolve('dist/wanbond.js');

function cli(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [BUNDLE, 'check-config', ...args], { encoding: 'utf8', timeout: 180_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** The same, without blocking: the broken fixtures run side by side. */
function cliAsync(...args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, [BUNDLE, 'check-config', ...args]);
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', fail);
    child.on('close', (status) => done({ status, stdout, stderr }));
  });
}

function load(text: string) {
  const r = loadConfigText(text, '/etc/config/wanbond');
  if (!r.ok) assert.fail(r.errors.map(formatConfigError).join('\n'));
  return r.config;
}

function errorsOf(text: string): string[] {
  const r = loadConfigText(text, 'f');
  assert.equal(r.ok, false, 'expected the config to be refused');
  return r.ok ? [] : r.errors.map(formatConfigError);
}

const KEY = 'OGWQX6oK+cF6HOvdDETnc6PAx0z8EJ0dhRm7y6L+oxc=';
const ROUTER = `config globals 'globals'
	option enabled '1'
config concentrator 'concentrator'
	option host '203.0.113.7'
	option public_key '${KEY}'
	option site 'home'
	option subnet '10.213.7.0/24'
`;

test('the shipped default is valid, disabled, and check-config exits 0 on it', () => {
  const r = cli('--config', SHIPPED);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /: ok$/m);
  const config = load(readFileSync(SHIPPED, 'utf8'));
  assert.equal(config.globals.enabled, false);
  assert.deepEqual(config.health, HEALTH_DEFAULTS);
  // Its commented examples, uncommented and enabled, make a valid router.
  const example = readFileSync(SHIPPED, 'utf8')
    .replace(/^#(config |\t)/gm, '$1')
    .replace(/^#$/gm, '')
    .replace(/option enabled '0'/g, "option enabled '1'");
  const router = load(example);
  assert.equal(router.globals.enabled, true);
  assert.deepEqual(router.links.map((l) => [l.name, l.id, l.interface, l.role]), [['wan', 1, 'wan', 'active'], ['lte', 2, 'wwan', 'backup']]);
  assert.equal(router.concentrator?.host, 'vpn.example.net');
});

test("the concentrator package's shipped default is valid too, and found when /etc/config is not there", () => {
  const r = cli('--config', 'files/etc/wanbond/wanbond');
  assert.equal(r.status, 0, r.stderr);
  assert.equal(defaultConfigPath(() => false), '/etc/config/wanbond');
  assert.equal(defaultConfigPath((p) => p === '/etc/wanbond/wanbond'), '/etc/wanbond/wanbond');
  assert.equal(defaultConfigPath(() => true), '/etc/config/wanbond');
});

test('the full router and concentrator examples are valid (exit 0)', () => {
  const files = readdirSync(VALID).filter((f) => f.endsWith('.conf'));
  assert.ok(files.length >= 2);
  for (const f of files) {
    const r = cli('--config', join(VALID, f));
    assert.equal(r.status, 0, `${f}: ${r.stderr}`);
  }
});

test('every broken fixture exits 1 and prints exactly the problems written in it', async () => {
  const files = readdirSync(INVALID).filter((f) => f.endsWith('.conf')).sort();
  assert.ok(files.length >= 15, `only ${files.length} broken fixtures`);
  const runs = await Promise.all(files.map((f) => cliAsync('--config', join(INVALID, f))));
  files.forEach((f, i) => {
    const path = join(INVALID, f);
    const expected = readFileSync(path, 'utf8')
      .split('\n')
      .filter((l) => l.startsWith('# expect: '))
      .map((l) => `${path}:${l.slice('# expect: '.length)}`);
    assert.ok(expected.length > 0, `${f} states no expected problem`);
    const r = runs[i]!;
    assert.equal(r.status, 1, `${f}: exit ${r.status}`);
    const printed = r.stderr.split('\n').filter((l) => l.startsWith(`${path}:`) && /^\d+: /.test(l.slice(path.length + 1)));
    assert.deepEqual(printed, expected, f);
    assert.match(r.stderr, new RegExp(`${expected.length} problems?\\n$`));
  });
});

test('check-config: missing file exits 1 naming it; usage errors exit 2; --help exits 0', () => {
  const missing = cli('--config', '/nonexistent/wanbond');
  assert.equal(missing.status, 1);
  assert.equal(missing.stderr.split('\n')[0], '/nonexistent/wanbond: cannot read the config: no such file');
  assert.equal(cli('--bogus').status, 2);
  assert.equal(cli('--config').status, 2);
  const help = cli('--help');
  assert.equal(help.status, 0);
  assert.match(help.stdout, /Exit status: 0 valid, 1 invalid/);
});

test('check-config --print shows the effective config in uci export form, defaults filled in', () => {
  const r = cli('--config', join(VALID, 'router-full.conf'), '--print');
  assert.equal(r.status, 0, r.stderr);
  assert.ok(r.stdout.startsWith('package wanbond\n\nconfig globals \'globals\'\n'));
  // A default the file does not set, and the auto-assigned parts.
  assert.match(r.stdout, /\toption listen_port '51820'\n/);
  assert.match(r.stdout, /config link 'lte'\n\toption id '2'\n\toption interface 'wwan'\n\toption enabled '1'\n\toption weight '3'\n\toption role 'active'\n\toption private_key_file '\/etc\/wanbond\/keys\/lte.key'\n/);
  assert.match(r.stdout, /\tlist bypass_dst '192.168.100.0\/24'\n\tlist bypass_dst '10.0.0.0\/8'\n/);
  // The printed config is itself valid and means the same.
  const dir = mkdtempSync(join(tmpdir(), 'wanbond-config-'));
  writeFileSync(join(dir, 'wanbond'), r.stdout);
  const again = cli('--config', join(dir, 'wanbond'), '--print');
  assert.equal(again.status, 0, again.stderr);
  assert.equal(again.stdout, r.stdout);
});

test('check-config --print never shows an MQTT password; --json gives the typed config', () => {
  const printed = cli('--config', join(VALID, 'concentrator-full.conf'), '--print');
  assert.equal(printed.status, 0);
  assert.ok(!printed.stdout.includes('secret'));
  assert.match(printed.stdout, /\toption password '\(hidden\)'\n/);
  const json = cli('--config', join(VALID, 'concentrator-full.conf'), '--json');
  assert.equal(json.status, 0);
  const out = JSON.parse(json.stdout);
  assert.ok(!json.stdout.includes('secret'));
  assert.equal(out.config.sites[0].peers[2].id, 4);
  assert.equal(out.config.sites[1].mode, 'active-backup');
  assert.equal(out.config.sites[0].mode, 'balance-rr');
});

test('check-config reports an unreadable file (a directory) as a problem, not a crash', () => {
  const dir = mkdtempSync(join(tmpdir(), 'wanbond-config-'));
  const r = cli('--config', dir);
  assert.equal(r.status, 1);
  assert.match(r.stderr, /cannot read the config: is a directory/);
  if (process.getuid?.() !== 0) {
    const f = join(dir, 'locked');
    writeFileSync(f, ROUTER);
    chmodSync(f, 0);
    assert.match(cli('--config', f).stderr, /permission denied/);
  }
});

test('loadConfigFile: same result as loadConfigText, missing file is a ConfigError', async () => {
  const r = await loadConfigFile(join(VALID, 'router-full.conf'));
  assert.ok(r.ok);
  const m = await loadConfigFile('/nonexistent/x');
  assert.equal(m.ok, false);
  if (!m.ok) assert.deepEqual(m.errors, [{ file: '/nonexistent/x', line: 0, message: 'cannot read the config: no such file' }]);
});

test('an empty file is valid and all defaults', () => {
  const config = load('');
  assert.deepEqual(config.globals, GLOBALS_DEFAULTS);
  assert.deepEqual(config.mqtt, MQTT_DEFAULTS);
  assert.deepEqual(config.links, []);
  assert.equal(config.concentrator, undefined);
});

test('the full router example reads as written', () => {
  const c = load(readFileSync(join(VALID, 'router-full.conf'), 'utf8'));
  assert.equal(c.globals.mtu, 1400);
  assert.deepEqual(c.concentrator, { host: 'vpn.example.net', port: 51820, public_key: KEY, site: 'farm', subnet: '10.213.7.0/24' });
  assert.deepEqual(c.links.map((l) => [l.name, l.id, l.role, l.enabled]), [['fibre', 1, 'active', true], ['lte', 2, 'active', true], ['starlink', 4, 'backup', true]]);
  assert.deepEqual(c.links[2], { name: 'starlink', id: 4, device: 'eth2', gateway: '100.64.0.1', enabled: true, weight: 1, role: 'backup', private_key_file: '/etc/wanbond/keys/sl.key' });
  assert.equal(c.links[0]!.rate_down, 50000);
  assert.equal(c.health.interval, 0.2);
  assert.equal(c.mqtt.qos, 1);
  assert.equal(c.mqtt.password, undefined);
  assert.equal(c.mqtt.password_file, '/etc/wanbond/mqtt.pass');
});

test('link ids: explicit ones kept, the others numbered in order of appearance around them', () => {
  const c = load(`${ROUTER}
config link 'a'
	option interface 'a'
config link 'b'
	option id '1'
	option interface 'b'
config link 'c'
	option interface 'c'
config link 'd'
	option id '3'
	option interface 'd'
config link 'e'
	option interface 'e'
`);
  assert.deepEqual(c.links.map((l) => [l.name, l.id]), [['a', 2], ['b', 1], ['c', 4], ['d', 3], ['e', 5]]);
});

test('at most 16 links; ids outside 1..16 refused', () => {
  let text = ROUTER;
  for (let i = 1; i <= 17; i++) text += `config link 'l${i}'\n\toption interface 'i${i}'\n`;
  const errors = errorsOf(text);
  assert.equal(errors.length, 1);
  assert.match(errors[0]!, /^f:\d+: l17: more than 16 links/);
  assert.match(errorsOf(`${ROUTER}config link 'x'\n\toption id '17'\n\toption interface 'x'\n`)[0]!, /x\.id: 17 is out of range \(1\.\.16\)/);
  assert.match(errorsOf(`${ROUTER}config link 'x'\n\toption id '0'\n\toption interface 'x'\n`)[0]!, /x\.id: 0 is out of range/);
});

test('an enabled router needs a concentrator and a link; a disabled one does not', () => {
  const errors = errorsOf(`config globals 'globals'\n\toption enabled '1'\n`);
  assert.deepEqual(errors, [
    "f:2: globals.enabled: an enabled router needs at least one enabled 'config link'",
    "f:2: globals.enabled: an enabled router needs a 'config concentrator' section (host, port, public_key, site, subnet)",
  ]);
  const all = errorsOf(`config globals 'globals'\n\toption enabled '1'\nconfig concentrator\n\toption port 1\nconfig link 'x'\n\toption interface x\n`);
  assert.deepEqual(all, ['host', 'public_key', 'site', 'subnet'].map((o) => `f:3: @concentrator[0].${o}: missing: an enabled router needs the concentrator's ${o}`));
  load(`config globals 'globals'\n\toption enabled '0'\nconfig concentrator\n\toption port 1\n`);
});

test('two links on the same interface or device are refused; a link needs one way to reach its modem', () => {
  assert.deepEqual(errorsOf(`${ROUTER}config link 'a'\n\toption interface wan\nconfig link 'b'\n\toption interface wan\n`), [
    "f:11: b.interface: interface 'wan' is already used by link 'a' (line 9)",
  ]);
  assert.match(errorsOf(`${ROUTER}config link 'a'\n\toption interface wan\n\toption device eth0\n\toption gateway 10.0.0.1\n`)[0]!, /a\.device: set either 'interface'/);
  assert.match(errorsOf(`${ROUTER}config link 'a'\n\toption gateway 10.0.0.1\n`)[0]!, /a\.gateway: needs 'option device' too/);
});

test('site subnets and the concentrator subnet must be /24 networks', () => {
  assert.match(errorsOf(ROUTER.replace('10.213.7.0/24', '10.213.0.0/16') + `config link 'a'\n\toption interface a\n`)[0]!, /concentrator\.subnet: '10\.213\.0\.0\/16' must be a \/24/);
  assert.match(errorsOf(`config site 's'\n\toption subnet '10.0.0.0/23'\n`)[0]!, /s\.subnet: '10\.0\.0\.0\/23' must be a \/24/);
});

test('options given as lists and lists given once as options', () => {
  assert.match(errorsOf(`config globals\n\tlist mode balance-rr\n`)[0]!, /^f:2: @globals\[0\]\.mode: takes one value: write 'option mode', not 'list mode'$/);
  const c = load(`config globals\n\toption bypass_dst '10.0.0.0/8'\n`);
  assert.deepEqual(c.globals.bypass_dst, ['10.0.0.0/8']);
});

test('a second singleton section and an anonymous site are refused', () => {
  assert.deepEqual(errorsOf(`config health\nconfig health 'h2'\n`), ["f:2: h2: a second 'health' section (the first is on line 1); keep one"]);
  assert.match(errorsOf(`config site\n\toption subnet 10.0.0.0/24\n`)[0]!, /@site\[0\]: a site section needs a name/);
});

test('MQTT: ca_file only with TLS, password needs a user, broker URL has no credentials', () => {
  assert.match(errorsOf(`config mqtt\n\toption broker mqtt://b\n\toption ca_file /etc/ca.pem\n`)[0]!, /ca_file: only applies to mqtts/);
  assert.match(errorsOf(`config mqtt\n\toption broker 'mqtt://u:p@b'\n`)[0]!, /broker: put credentials in the username and password options/);
  load(`config mqtt\n\toption enabled 1\n\toption broker 'wss://[2001:db8::1]:443/mqtt'\n\toption ca_file /etc/ca.pem\n`);
});

test('booleans take every spelling OpenWrt accepts', () => {
  for (const [s, b] of [['1', true], ['yes', true], ['on', true], ['true', true], ['enabled', true], ['0', false], ['no', false], ['off', false], ['false', false], ['disabled', false]] as const) {
    assert.equal(load(`config globals\n\toption nat '${s}'\n`).globals.nat, b, s);
  }
});

test('README documents every option, and the defaults it states are the real ones', () => {
  const readme = readFileSync('README.md', 'utf8');
  for (const [type, spec] of Object.entries(SECTIONS)) {
    assert.ok(readme.includes(`config ${type}`), `README lacks config ${type}`);
    for (const option of Object.keys(spec.options)) assert.ok(readme.includes(`\`${option}\``), `README lacks ${type}.${option}`);
  }
  const section = readme.slice(readme.indexOf('## Configuration'), readme.indexOf('\n## ', readme.indexOf('## Configuration') + 5));
  const stated = new Map<string, string>();
  let table = '';
  for (const line of section.split('\n')) {
    const head = /^\*\*`config (\w+)/.exec(line);
    if (head) table = head[1]!;
    const row = /^\| `(\w+)` \| `([^`]*)` \|/.exec(line);
    if (row && table) stated.set(`${table}.${row[1]}`, row[2]!);
  }
  const printed = configToDocument(load(`config link 'x'\n\toption interface x\n`));
  let compared = 0;
  for (const s of printed.sections) {
    for (const o of s.options) {
      const claim = stated.get(`${s.type}.${o.name}`);
      if (claim === undefined || o.kind !== 'option') continue;
      assert.equal(claim.replace('<name>', s.name), o.value, `README default of ${s.type}.${o.name}`);
      compared++;
    }
  }
  assert.ok(compared >= 20, `only ${compared} defaults compared`);
});

test('an MQTT password never appears in a problem message', () => {
  const secret = 'hunter2\u0007really-secret';
  const errors = errorsOf(`config mqtt\n\toption broker mqtt://b\n\toption password '${secret}'\n\toption password_file /etc/p\n`);
  assert.ok(errors.length >= 2);
  for (const e of errors) assert.ok(!e.includes('hunter2'), e);
});

test('loadConfigFile refuses a device or an oversized file instead of reading it whole', async () => {
  const dev = await loadConfigFile('/dev/zero');
  assert.equal(dev.ok, false);
  if (!dev.ok) assert.equal(dev.errors[0]!.message, 'cannot read the config: not a regular file');
  const dir = mkdtempSync(join(tmpdir(), 'wanbond-config-'));
  const big = join(dir, 'big');
  writeFileSync(big, `# ${'x'.repeat(2 * 1024 * 1024)}\n`);
  const r = await loadConfigFile(big);
  assert.equal(r.ok, false);
  if (!r.ok) assert.match(r.errors[0]!.message, /over the 1048576-byte limit/);
});

test('unknown names get a "did you mean" for typos and shortened names, none for unrelated ones', () => {
  assert.deepEqual(errorsOf(`config globals\n\toption fallback_time 5\n\toption intrface x\n\toption colour blue\nconfig helth\n`), [
    "f:2: @globals[0].fallback_time: unknown option (did you mean 'fallback_timeout'?)",
    "f:3: @globals[0].intrface: unknown option (did you mean 'interface', an option of 'config link'?)",
    'f:4: @globals[0].colour: unknown option',
    "f:5: @helth[0]: unknown section type 'helth' (did you mean 'health'?)",
  ]);
});
