// `make ipk`: the .ipk's container, control, maintainer scripts and payload, as OpenWrt's own
// build writes them (openwrt.md §6), rebuilt byte for byte from the same commit.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { readTar, readTarGz, type TarEntry } from '../../scripts/lib/tar.mjs';
import { thirdPartyLicenses } from '../../scripts/lib/licenses.mjs';
import { NOTICES } from '../../scripts/lib/wanbond-package.mjs';

const pkg = JSON.parse(readFileSync('package.json', 'utf8')) as { version: string };
const EPOCH = '1700000000';
const NAME = `wanbond_${pkg.version}_all.ipk`;
let dir = '';
let ipk: Buffer = Buffer.alloc(0);

function makeIpk(outDir: string, epoch: string): Buffer {
  execFileSync(process.execPath, ['scripts/ipk.mjs', outDir], { env: { ...process.env, SOURCE_DATE_EPOCH: epoch }, stdio: 'pipe' });
  return readFileSync(join(outDir, NAME));
}
const member = (name: string): Buffer => {
  const m = readTarGz(ipk).find((e) => e.path === name);
  assert.ok(m, `${name} missing`);
  return m.content;
};
const controlFiles = (): TarEntry[] => readTarGz(member('./control.tar.gz'));
const controlFile = (name: string): string => {
  const f = controlFiles().find((e) => e.path === `./${name}`);
  assert.ok(f, `control.tar.gz has no ${name}`);
  return f.content.toString();
};
const dataEntries = (): TarEntry[] => readTarGz(member('./data.tar.gz'));

before(() => {
  if (!existsSync('dist/wanbond.js')) execFileSync(process.execPath, ['scripts/build.mjs'], { stdio: 'pipe' });
  dir = mkdtempSync(join(tmpdir(), 'wb-ipk-'));
  ipk = makeIpk(join(dir, 'a'), EPOCH);
});
after(() => rmSync(dir, { recursive: true, force: true }));

test('tar -tzf lists exactly ./debian-binary, ./data.tar.gz, ./control.tar.gz (ipkg-build order)', () => {
  const listing = execFileSync('tar', ['-tzf', join(dir, 'a', NAME)]).toString();
  assert.deepEqual(listing.trim().split('\n'), ['./debian-binary', './data.tar.gz', './control.tar.gz']);
  assert.equal(member('./debian-binary').toString(), '2.0\n');
  const verbose = execFileSync('tar', ['--numeric-owner', '-tvzf', join(dir, 'a', NAME)]).toString();
  for (const line of verbose.trim().split('\n')) assert.match(line, /^-rw-r--r-- 0\/0 /);
});

test('two builds from the same commit are byte-identical; another SOURCE_DATE_EPOCH is not', () => {
  const again = makeIpk(join(dir, 'b'), EPOCH);
  const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
  assert.equal(sha(again), sha(ipk));
  assert.notEqual(sha(makeIpk(join(dir, 'c'), String(Number(EPOCH) + 1))), sha(ipk));
  for (const e of readTarGz(ipk)) assert.equal(e.mtime, Number(EPOCH));
  for (const e of [...controlFiles(), ...dataEntries()]) {
    assert.equal(e.mtime, Number(EPOCH), e.path);
    assert.equal(e.uid, 0, e.path);
    assert.equal(e.gid, 0, e.path);
  }
});

test('control: OpenWrt field order, the stack dependencies, Installed-Size = bytes of the data tar', () => {
  const control = controlFile('control');
  const fields = control.split('\n').filter((l) => /^[A-Za-z-]+:/.test(l)).map((l) => l.slice(0, l.indexOf(':')));
  assert.deepEqual(fields, [
    'Package', 'Version', 'Depends', 'Source', 'SourceName', 'License', 'Section', 'SourceDateEpoch', 'URL',
    'Maintainer', 'Architecture', 'Installed-Size', 'Description',
  ]);
  const value = (k: string) => control.match(new RegExp(`^${k}: (.*)$`, 'm'))?.[1];
  assert.equal(value('Package'), 'wanbond');
  assert.equal(value('Version'), pkg.version);
  assert.equal(value('Section'), 'net');
  assert.equal(value('Architecture'), 'all');
  assert.equal(value('SourceDateEpoch'), EPOCH);
  const depends = value('Depends')?.split(', ') ?? [];
  for (const d of ['node', 'kmod-bonding', 'kmod-wireguard', 'wireguard-tools', 'kmod-gre', 'ip-full', 'kmod-nft-core', 'kmod-netem', 'kmod-sched-core']) {
    assert.ok(depends.includes(d), `Depends lacks ${d}`);
  }
  const dataTarBytes = gunzipSync(member('./data.tar.gz')).length;
  assert.equal(value('Installed-Size'), String(dataTarBytes));
  // Description: continuation lines start with one space; the text is the feed recipe's.
  const desc = control.slice(control.indexOf('Description:'));
  const lines = desc.trimEnd().split('\n');
  assert.ok(lines.length >= 3, 'a real, multi-line description');
  for (const l of lines.slice(1)) assert.match(l, /^ \S/);
  assert.ok(control.endsWith('\n'));
});

test('conffiles lists /etc/config/wanbond, a regular file of the payload', () => {
  assert.equal(controlFile('conffiles'), '/etc/config/wanbond\n');
  const conf = dataEntries().find((e) => e.path === './etc/config/wanbond');
  assert.equal(conf?.type, 'file');
});

test('payload: wrapper, bundle, default config, procd init script, 0700 keys directory', () => {
  const modes = Object.fromEntries(dataEntries().map((e) => [e.path, `${e.type} ${e.mode.toString(8)}`]));
  assert.deepEqual(modes, {
    './': 'dir 755',
    './etc/': 'dir 755',
    './etc/config/': 'dir 755',
    './etc/config/wanbond': 'file 600',
    './etc/init.d/': 'dir 755',
    './etc/init.d/wanbond': 'file 755',
    './etc/uci-defaults/': 'dir 755',
    './etc/uci-defaults/90-wanbond-firewall': 'file 755',
    './etc/wanbond/': 'dir 755',
    './etc/wanbond/keys/': 'dir 700',
    './usr/': 'dir 755',
    './usr/bin/': 'dir 755',
    './usr/bin/wanbond': 'file 755',
    './usr/lib/': 'dir 755',
    './usr/lib/wanbond/': 'dir 755',
    './usr/lib/wanbond/THIRD-PARTY-LICENSES': 'file 644',
    './usr/lib/wanbond/wanbond.js': 'file 755',
  });
  const byPath = (p: string) => dataEntries().find((e) => e.path === p)?.content;
  assert.ok(byPath('./usr/lib/wanbond/wanbond.js')?.equals(readFileSync('dist/wanbond.js')));
  assert.ok(byPath('./etc/config/wanbond')?.equals(readFileSync('files/etc/config/wanbond')));
  assert.match(byPath('./etc/init.d/wanbond')?.toString() ?? '', /^#!\/bin\/sh \/etc\/rc\.common\n[\s\S]*^USE_PROCD=1$/m);
});

test('THIRD-PARTY-LICENSES is current: every bundled npm package of package-lock.json, with its text', () => {
  const shipped = readFileSync(NOTICES, 'utf8');
  assert.equal(shipped, thirdPartyLicenses('.'), `stale: run node scripts/lib/licenses.mjs > ${NOTICES}`);
  for (const dep of Object.keys((JSON.parse(readFileSync('package.json', 'utf8')) as { dependencies: object }).dependencies)) {
    assert.match(shipped, new RegExp(`^--- ${dep} \\S+ \\(MIT\\)\\n\\n.*Permission is hereby granted`, 'ms'));
  }
  assert.doesNotMatch(shipped, /^--- (@types\/|typescript |esbuild |tsx )/m, 'build and test tools are not in the bundle');
});

test('extracted into a temp root, its /usr/bin/wanbond --version prints the version', (t) => {
  const root = join(dir, 'root');
  mkdirSync(root);
  writeFileSync(join(dir, 'data.tar.gz'), member('./data.tar.gz'));
  execFileSync('tar', ['-xzf', join(dir, 'data.tar.gz'), '-C', root]);
  const out = execFileSync(join(root, 'usr/bin/wanbond'), ['--version'], {
    cwd: '/', env: { PATH: process.env.PATH ?? '/usr/bin:/bin' },
  }).toString();
  assert.equal(out.trim(), pkg.version);
  t.diagnostic(`ran ${root}/usr/lib/wanbond/wanbond.js through the wrapper`);
});

// A stand-in for OpenWrt's /lib/functions.sh that records what the package's scripts call, and
// stubs on PATH for every command a live install would touch.
function fakeInstroot(): { root: string; log: string; env: NodeJS.ProcessEnv } {
  const base = mkdtempSync(join(dir, 'instroot-'));
  const root = join(base, 'root');
  const log = join(base, 'calls.log');
  const bin = join(base, 'bin');
  mkdirSync(join(root, 'lib'), { recursive: true });
  mkdirSync(join(root, 'usr/lib/opkg/info'), { recursive: true });
  mkdirSync(bin);
  writeFileSync(
    join(root, 'lib/functions.sh'),
    `default_postinst() { echo "default_postinst $*" >> "${log}"; ( . "$IPKG_INSTROOT/usr/lib/opkg/info/wanbond.postinst-pkg" ); }\n` +
      `default_prerm() { echo "default_prerm $*" >> "${log}"; ( . "$IPKG_INSTROOT/usr/lib/opkg/info/wanbond.prerm-pkg" ); }\n`,
  );
  for (const name of ['postinst-pkg', 'prerm-pkg']) writeFileSync(join(root, `usr/lib/opkg/info/wanbond.${name}`), controlFile(name));
  for (const cmd of ['chmod', 'uci', 'logger', 'ubus', 'service', 'kill', 'killall', 'wanbond', 'node', 'ip', 'wg', 'nft', 'grep']) {
    const stub = join(bin, cmd);
    writeFileSync(stub, `#!/bin/sh\necho "LIVE ${cmd} $*" >> "${log}"\n`);
    chmodSync(stub, 0o755);
  }
  return { root, log, env: { PATH: `${bin}:/usr/bin:/bin`, IPKG_INSTROOT: root } };
}

function runScript(name: string, env: NodeJS.ProcessEnv, script = join(dir, `wanbond.${name}`)): number {
  writeFileSync(script, controlFile(name));
  chmodSync(script, 0o755);
  return spawnSync('/bin/sh', [script, 'configure'], { env, stdio: 'pipe' }).status ?? -1;
}

test('postinst and prerm are OpenWrt\'s generated wrappers around postinst-pkg / prerm-pkg', () => {
  assert.equal(
    controlFile('postinst'),
    '#!/bin/sh\n[ "${IPKG_NO_SCRIPT}" = "1" ] && exit 0\n[ -s ${IPKG_INSTROOT}/lib/functions.sh ] || exit 0\n' +
      '. ${IPKG_INSTROOT}/lib/functions.sh\ndefault_postinst $0 $@\n',
  );
  assert.equal(
    controlFile('prerm'),
    '#!/bin/sh\n[ -s ${IPKG_INSTROOT}/lib/functions.sh ] || exit 0\n. ${IPKG_INSTROOT}/lib/functions.sh\ndefault_prerm $0 $@\n',
  );
  const modes = Object.fromEntries(controlFiles().map((e) => [e.path, e.mode.toString(8)]));
  assert.deepEqual(modes, {
    './': '755', './conffiles': '644', './control': '644',
    './postinst': '755', './postinst-pkg': '755', './prerm': '755', './prerm-pkg': '755',
  });
  for (const s of ['postinst', 'postinst-pkg', 'prerm', 'prerm-pkg']) {
    assert.equal(spawnSync('sh', ['-n', '-c', controlFile(s)]).status, 0, `${s} is not valid sh`);
  }
});

test('with IPKG_INSTROOT set (image build) postinst and prerm run nothing live', () => {
  const { log, env } = fakeInstroot();
  assert.equal(runScript('postinst', env), 0);
  assert.equal(runScript('prerm', env), 0);
  const calls = readFileSync(log, 'utf8').trim().split('\n');
  assert.equal(calls.length, 2, calls.join('\n'));
  assert.match(calls[0] ?? '', /^default_postinst \S+\/wanbond\.postinst configure$/);
  assert.match(calls[1] ?? '', /^default_prerm \S+\/wanbond\.prerm configure$/);
});

test('IPKG_NO_SCRIPT=1 skips postinst entirely; a root without functions.sh runs nothing', () => {
  const { log, env } = fakeInstroot();
  assert.equal(runScript('postinst', { ...env, IPKG_NO_SCRIPT: '1' }), 0);
  assert.equal(existsSync(log), false);
  assert.equal(runScript('postinst', { ...env, IPKG_INSTROOT: resolve(dir, 'nowhere') }), 0);
  assert.equal(existsSync(log), false);
});

test('on a live system (IPKG_INSTROOT empty) postinst-pkg tightens the keys directory', () => {
  // The live branch, run against the stubs: it must reach chmod of /etc/wanbond/keys.
  const { log, env } = fakeInstroot();
  const script = join(dir, 'live-postinst-pkg');
  writeFileSync(script, controlFile('postinst-pkg'));
  assert.equal(spawnSync('/bin/sh', [script], { env: { ...env, IPKG_INSTROOT: '' }, stdio: 'pipe' }).status, 0);
  assert.match(readFileSync(log, 'utf8'), /^LIVE chmod 0700 \/etc\/wanbond\/keys$/m);
});

test('the outer archive is a gzip\'d GNU tar with 10240-byte records', () => {
  const raw = gunzipSync(ipk);
  assert.equal(raw.length % 10240, 0);
  assert.equal(raw.toString('ascii', 257, 265), 'ustar  \0');
  assert.equal(readTar(raw).length, 3);
});
