// `make deb`: the concentrator's Debian package, read back with dpkg-deb and installed for real
// with dpkg into a scratch root (chrootless, DPKG_ROOT set: the maintainer scripts must not
// touch the running system, which stubs on PATH record).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { readAr } from '../../scripts/lib/ar.mjs';

const pkg = JSON.parse(readFileSync('package.json', 'utf8')) as { version: string };
const NAME = `wanbond_${pkg.version}_all.deb`;
const EPOCH = '1700000000';
let dir = '';
let deb = '';

function makeDeb(outDir: string, epoch = EPOCH): Buffer {
  execFileSync(process.execPath, ['scripts/deb.mjs', outDir], { env: { ...process.env, SOURCE_DATE_EPOCH: epoch }, stdio: 'pipe' });
  return readFileSync(join(outDir, NAME));
}

/** One file of the package's data, read with dpkg-deb and tar. */
const debFile = (path: string): Buffer =>
  execFileSync('tar', ['-xOf', '-', path], { input: execFileSync('dpkg-deb', ['--fsys-tarfile', deb], { maxBuffer: 1 << 26 }), maxBuffer: 1 << 26 });

before(() => {
  if (!existsSync('dist/wanbond.js')) execFileSync(process.execPath, ['scripts/build.mjs'], { stdio: 'pipe' });
  dir = mkdtempSync(join(tmpdir(), 'wb-deb-'));
  makeDeb(join(dir, 'a'));
  deb = join(dir, 'a', NAME);
});
after(() => rmSync(dir, { recursive: true, force: true }));

test('an ar archive of debian-binary, control.tar.gz, data.tar.gz; rebuilt byte-identical', () => {
  const members = readAr(readFileSync(deb));
  assert.deepEqual(members.map((m) => m.name), ['debian-binary', 'control.tar.gz', 'data.tar.gz']);
  assert.equal(members[0]?.content.toString(), '2.0\n');
  const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
  assert.equal(sha(makeDeb(join(dir, 'b'))), sha(readFileSync(deb)));
  assert.notEqual(sha(makeDeb(join(dir, 'c'), String(Number(EPOCH) + 60))), sha(readFileSync(deb)));
});

test('dpkg-deb --info: control fields, dependencies, conffile, maintainer scripts', () => {
  const field = (f: string) => execFileSync('dpkg-deb', ['--field', deb, f]).toString().trim();
  assert.equal(field('Package'), 'wanbond');
  assert.equal(field('Version'), pkg.version);
  assert.equal(field('Architecture'), 'all');
  assert.equal(field('Depends'), 'nodejs (>= 18), wireguard-tools, iproute2, nftables');
  assert.match(field('Maintainer'), /^.+ <[^@\s]+@[^>\s]+>$/);
  assert.match(field('Description'), /^\S.*\n \S/);
  const info = execFileSync('dpkg-deb', ['--info', deb]).toString();
  for (const s of ['postinst', 'prerm', 'postrm']) assert.match(info, new RegExp(`^ +\\d+ bytes, +\\d+ lines +\\* +${s} +#!/bin/sh$`, 'm'));
  assert.equal(execFileSync('dpkg-deb', ['--ctrl-tarfile', deb]).length % 10240, 0);
  const conffiles = execFileSync('sh', ['-c', `dpkg-deb --ctrl-tarfile "${deb}" | tar -xOf - ./conffiles`]).toString();
  assert.equal(conffiles, '/etc/wanbond/wanbond\n');
});

test('dpkg-deb --contents: bundle, wrapper, disabled concentrator config, systemd unit, 0700 keys', () => {
  const lines = execFileSync('dpkg-deb', ['--contents', deb]).toString().trim().split('\n');
  const entries = Object.fromEntries(lines.map((l) => {
    const f = l.split(/\s+/);
    return [f[5], `${f[0]} ${f[1]}`];
  }));
  assert.deepEqual(entries, {
    './': 'drwxr-xr-x 0/0',
    './etc/': 'drwxr-xr-x 0/0',
    './etc/wanbond/': 'drwxr-xr-x 0/0',
    './etc/wanbond/keys/': 'drwx------ 0/0',
    './etc/wanbond/wanbond': '-rw------- 0/0',
    './lib/': 'drwxr-xr-x 0/0',
    './lib/systemd/': 'drwxr-xr-x 0/0',
    './lib/systemd/system/': 'drwxr-xr-x 0/0',
    './lib/systemd/system/wanbond.service': '-rw-r--r-- 0/0',
    './usr/': 'drwxr-xr-x 0/0',
    './usr/bin/': 'drwxr-xr-x 0/0',
    './usr/bin/wanbond': '-rwxr-xr-x 0/0',
    './usr/lib/': 'drwxr-xr-x 0/0',
    './usr/lib/wanbond/': 'drwxr-xr-x 0/0',
    './usr/lib/wanbond/wanbond.js': '-rwxr-xr-x 0/0',
    './usr/share/': 'drwxr-xr-x 0/0',
    './usr/share/doc/': 'drwxr-xr-x 0/0',
    './usr/share/doc/wanbond/': 'drwxr-xr-x 0/0',
    './usr/share/doc/wanbond/changelog.gz': '-rw-r--r-- 0/0',
    './usr/share/doc/wanbond/copyright': '-rw-r--r-- 0/0',
  });
});

test('copyright names wanbond\'s license and every bundled package; changelog.gz is this version', () => {
  const copyright = debFile('./usr/share/doc/wanbond/copyright').toString();
  assert.match(copyright, /^License: Apache-2\.0$/m);
  assert.match(copyright, /\/usr\/share\/common-licenses\/Apache-2\.0/);
  for (const dep of ['execa', 'zod', 'mqtt']) assert.match(copyright, new RegExp(`^--- ${dep} `, 'm'));
  assert.doesNotMatch(copyright, /TERMS AND CONDITIONS FOR USE, REPRODUCTION/, 'full Apache text: point to common-licenses');
  const changelog = gunzipSync(debFile('./usr/share/doc/wanbond/changelog.gz')).toString();
  assert.match(changelog, new RegExp(`^wanbond \\(${pkg.version.replace(/\./g, '\\.')}\\) unstable; urgency=medium$`, 'm'));
  assert.match(changelog, /^ -- .+ <.+>  \w{3}, \d{2} \w{3} \d{4} \d{2}:\d{2}:\d{2} \+0000$/m);
});

test('the unit: restart on failure, after network-online, runs the config, reloads with SIGHUP, keeps CAP_NET_ADMIN', () => {
  const unit = readFileSync('files/lib/systemd/system/wanbond.service', 'utf8');
  const values = (k: string) => [...unit.matchAll(new RegExp(`^${k}=(.*)$`, 'gm'))].map((m) => m[1]);
  assert.deepEqual(values('ExecStart'), ['/usr/bin/wanbond run --config /etc/wanbond/wanbond']);
  assert.deepEqual(values('ExecReload'), ['/bin/kill -HUP $MAINPID']);
  assert.deepEqual(values('Restart'), ['on-failure']);
  assert.ok(values('After').join(' ').split(/\s+/).includes('network-online.target'));
  assert.ok(values('Wants').join(' ').split(/\s+/).includes('network-online.target'));
  const caps = values('CapabilityBoundingSet').join(' ').split(/\s+/);
  assert.ok(caps.includes('CAP_NET_ADMIN'));
  assert.deepEqual(values('WantedBy'), ['multi-user.target']);
  // What would break the agent: no /dev/net/tun (wireguard-go), read-only /proc/sys (ip_forward).
  for (const k of ['PrivateDevices', 'ProtectKernelTunables', 'PrivateNetwork', 'MemoryDenyWriteExecute', 'User', 'DynamicUser']) {
    assert.deepEqual(values(k), [], `${k} would stop the agent managing the network`);
  }
});

test('systemd-analyze verify finds nothing to complain about in the unit', (t) => {
  const copy = join(dir, 'wanbond.service');
  // verify insists that ExecStart exists on this machine; everything else is checked as shipped.
  writeFileSync(copy, readFileSync('files/lib/systemd/system/wanbond.service', 'utf8').replace('/usr/bin/wanbond run', '/bin/true run'));
  const r = spawnSync('systemd-analyze', ['verify', copy], { encoding: 'utf8' });
  assert.equal(r.error, undefined, 'systemd-analyze (package systemd) is needed');
  t.diagnostic(r.stderr);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stderr.trim(), '');
});

test('dpkg -i into a scratch root installs every file, keeps the conffile, runs nothing live', () => {
  const root = join(dir, 'root');
  const admin = join(root, 'var/lib/dpkg');
  for (const d of ['updates', 'info', 'triggers']) mkdirSync(join(admin, d), { recursive: true });
  writeFileSync(join(admin, 'status'), '');
  writeFileSync(join(admin, 'available'), '');
  const bin = join(dir, 'bin');
  const log = join(dir, 'live.log');
  mkdirSync(bin);
  for (const cmd of ['systemctl', 'deb-systemd-helper', 'deb-systemd-invoke', 'invoke-rc.d', 'service']) {
    writeFileSync(join(bin, cmd), `#!/bin/sh\necho "${cmd} $*" >> "${log}"\n`);
    chmodSync(join(bin, cmd), 0o755);
  }
  const dpkg = (...args: string[]) => {
    const r = spawnSync('dpkg', [
      `--root=${root}`, '--force-script-chrootless', '--force-depends', '--force-not-root', '--log=/dev/null', ...args,
    ], { encoding: 'utf8', env: { ...process.env, PATH: `${bin}:/usr/sbin:/usr/bin:/sbin:/bin` } });
    assert.equal(r.status, 0, r.stderr + r.stdout);
    return r.stdout;
  };
  dpkg('-i', deb);
  assert.equal(readFileSync(join(root, 'usr/lib/wanbond/wanbond.js')).equals(readFileSync('dist/wanbond.js')), true);
  assert.equal(statSync(join(root, 'etc/wanbond/keys')).mode & 0o7777, 0o700);
  assert.equal(statSync(join(root, 'etc/wanbond/wanbond')).mode & 0o7777, 0o600);
  assert.match(readFileSync(join(root, 'etc/wanbond/wanbond'), 'utf8'), /^\toption role 'concentrator'$/m);
  assert.match(readFileSync(join(root, 'etc/wanbond/wanbond'), 'utf8'), /^\toption enabled '0'$/m);
  const status = execFileSync('dpkg-query', [`--admindir=${admin}`, '-W', '-f=${Status} ${Version}', 'wanbond']).toString();
  assert.equal(status, `install ok installed ${pkg.version}`);
  assert.equal(readFileSync(join(admin, 'info/wanbond.conffiles'), 'utf8').trim(), '/etc/wanbond/wanbond');
  // An edited conffile survives reinstalling the package.
  writeFileSync(join(root, 'etc/wanbond/wanbond'), "config globals 'globals'\n\toption enabled '1'\n");
  dpkg('--force-confold', '-i', deb);
  assert.match(readFileSync(join(root, 'etc/wanbond/wanbond'), 'utf8'), /enabled '1'/);
  dpkg('--purge', 'wanbond');
  assert.equal(existsSync(join(root, 'usr/lib/wanbond/wanbond.js')), false);
  assert.equal(existsSync(log), false, existsSync(log) ? readFileSync(log, 'utf8') : '');
});

test('unpacked, its /usr/bin/wanbond prints the version and accepts the shipped concentrator config', () => {
  const root = join(dir, 'x');
  mkdirSync(root);
  execFileSync('dpkg-deb', ['-x', deb, root]);
  const wanbond = (...args: string[]) =>
    spawnSync(join(root, 'usr/bin/wanbond'), args, { cwd: '/', env: { PATH: process.env.PATH ?? '/usr/bin:/bin' }, encoding: 'utf8' });
  assert.equal(wanbond('--version').stdout.trim(), pkg.version);
  const conf = join(root, 'etc/wanbond/wanbond');
  const check = wanbond('check-config', '--config', conf);
  assert.equal(check.status, 0, check.stdout + check.stderr);
  const printed = wanbond('check-config', '--config', conf, '--print').stdout;
  assert.match(printed, /^\toption role 'concentrator'$/m);
  assert.match(printed, /^\toption enabled '0'$/m);
  // The commented examples are valid too once uncommented.
  const edited = join(dir, 'edited');
  writeFileSync(edited, readFileSync(conf, 'utf8').replace(/^\t#option/gm, '\toption'));
  const check2 = wanbond('check-config', '--config', edited);
  assert.equal(check2.status, 0, check2.stdout + check2.stderr);
});

test('live install (no DPKG_ROOT): postinst enables the unit but does not start it; prerm stops it on remove', () => {
  // Every command the scripts could run on this machine is a stub on PATH that only records.
  const bin = join(dir, 'live-bin');
  const log = join(dir, 'live-calls.log');
  mkdirSync(bin);
  for (const cmd of ['systemctl', 'deb-systemd-helper', 'deb-systemd-invoke', 'chmod']) {
    writeFileSync(join(bin, cmd), `#!/bin/sh\necho "${cmd} $*" >> "${log}"\n`);
    chmodSync(join(bin, cmd), 0o755);
  }
  const script = (name: string, ...args: string[]) => {
    const file = join(dir, `live-${name}`);
    writeFileSync(file, readFileSync(`files/debian/${name}`));
    const r = spawnSync('/bin/sh', [file, ...args], { env: { PATH: `${bin}:/usr/bin:/bin` }, encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    const calls = existsSync(log) ? readFileSync(log, 'utf8').trim().split('\n') : [];
    rmSync(log, { force: true });
    // systemctl daemon-reload / try-restart run only where systemd is PID 1; the rest always.
    return calls.filter((c) => !c.startsWith('systemctl --system daemon-reload'));
  };
  const firstInstall = script('postinst', 'configure');
  assert.deepEqual(firstInstall.filter((c) => !c.startsWith('systemctl try-restart')), [
    'chmod 0700 /etc/wanbond/keys',
    'deb-systemd-helper unmask wanbond.service',
    'deb-systemd-helper --quiet was-enabled wanbond.service',
    'deb-systemd-helper enable wanbond.service',
  ]);
  assert.ok(!firstInstall.some((c) => /\bstart\b/.test(c)), 'the shipped config is disabled: nothing to start');
  assert.ok(!script('postinst', 'configure', '0.0.9').some((c) => / start /.test(c)));
  const prerm = script('prerm', 'remove');
  assert.ok(prerm.every((c) => c === 'deb-systemd-invoke stop wanbond.service'));
  assert.deepEqual(script('prerm', 'upgrade', '0.2.0'), []);
  assert.deepEqual(script('postrm', 'purge'), ['deb-systemd-helper purge wanbond.service', 'deb-systemd-helper unmask wanbond.service']);
});
