// openwrt/wanbond/Makefile cannot be built here (no SDK), so GNU make runs it against small
// stand-ins for rules.mk/package.mk that define the install macros the way OpenWrt does
// (INSTALL_BIN 0755, INSTALL_DATA 0644, INSTALL_CONF 0600, INSTALL_DIR 0755) and a BuildPackage
// that dumps the package's variables and runs Build/Compile + Package/wanbond/install into a
// directory. What comes out is compared with the hand-built .ipk, so the two cannot drift.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, lstatSync, mkdtempSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { buildIpk } from '../../scripts/lib/ipk.mjs';
import { readTarGz, type TarEntry } from '../../scripts/lib/tar.mjs';
import { wanbondIpkSpec } from '../../scripts/lib/wanbond-package.mjs';

const PACKAGE_MK = `
INSTALL_DIR:=install -d -m0755
INSTALL_BIN:=install -m0755
INSTALL_DATA:=install -m0644
INSTALL_CONF:=install -m0600
CP:=cp -fpR
PKG_BUILD_DIR:=$(BUILD_DIR)/$(PKG_NAME)-$(PKG_VERSION)
define BuildPackage
$(Package/$(1))
$$(file >$(DUMP)/DEPENDS,$$(DEPENDS))
$$(file >$(DUMP)/PKGARCH,$$(PKGARCH))
$$(file >$(DUMP)/SECTION,$$(SECTION))
$$(file >$(DUMP)/URL,$$(URL))
$$(file >$(DUMP)/PKG_VERSION,$$(PKG_VERSION))
$$(file >$(DUMP)/PKG_LICENSE,$$(PKG_LICENSE))
$$(file >$(DUMP)/PKG_MAINTAINER,$$(PKG_MAINTAINER))
$$(file >$(DUMP)/conffiles,$$(Package/$(1)/conffiles))
$$(file >$(DUMP)/description,$$(Package/$(1)/description))
$$(file >$(DUMP)/postinst-pkg,$$(Package/$(1)/postinst))
$$(file >$(DUMP)/prerm-pkg,$$(Package/$(1)/prerm))
install:
	mkdir -p $(PKG_BUILD_DIR) $(DEST)
$(Build/Compile)
$(call Package/$(1)/install,$(DEST))
endef
`;

let dir = '';
let dump = '';
let dest = '';
let ipkData: TarEntry[] = [];
let ipkControl: TarEntry[] = [];
const dumped = (name: string) => readFileSync(join(dump, name), 'utf8');
const controlFile = (name: string) => ipkControl.find((e) => e.path === `./${name}`)?.content.toString();

before(() => {
  if (!existsSync('dist/wanbond.js')) execFileSync(process.execPath, ['scripts/build.mjs'], { stdio: 'pipe' });
  dir = mkdtempSync(join(tmpdir(), 'wb-feed-'));
  dump = join(dir, 'dump');
  dest = join(dir, 'ipkg-all', 'wanbond');
  mkdirSync(dump);
  writeFileSync(join(dir, 'rules.mk'), '# stand-in for OpenWrt rules.mk\n');
  writeFileSync(join(dir, 'package.mk'), PACKAGE_MK);
  execFileSync('make', [
    '-s', '-C', 'openwrt/wanbond', `TOPDIR=${dir}`, `INCLUDE_DIR=${dir}`, `BUILD_DIR=${join(dir, 'build')}`,
    `DUMP=${dump}`, `DEST=${dest}`, 'install',
  ], { stdio: 'pipe', env: { ...process.env, MAKEFLAGS: '' } });
  const ipk = readTarGz(buildIpk(wanbondIpkSpec()).buffer);
  const member = (n: string) => ipk.find((e) => e.path === n)?.content ?? Buffer.alloc(0);
  ipkData = readTarGz(member('./data.tar.gz'));
  ipkControl = readTarGz(member('./control.tar.gz'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

test('DEPENDS: the recipe\'s +deps plus OpenWrt\'s implicit libc are the .ipk\'s Depends, in order', () => {
  const recipe = dumped('DEPENDS').trim().split(/\s+/);
  for (const d of recipe) assert.match(d, /^\+[a-z0-9.+-]+$/, `unconditional dependency expected, got ${d}`);
  const depends = controlFile('control')?.match(/^Depends: (.*)$/m)?.[1];
  assert.equal(depends, ['libc', ...recipe.map((d) => d.slice(1))].join(', '));
  assert.ok(recipe.includes('+node'));
});

test('PKGARCH all, section, version, license, maintainer and URL match the .ipk\'s control', () => {
  const control = controlFile('control') ?? '';
  const value = (k: string) => control.match(new RegExp(`^${k}: (.*)$`, 'm'))?.[1];
  assert.equal(dumped('PKGARCH').trim(), 'all');
  assert.equal(value('Architecture'), 'all');
  assert.equal(dumped('SECTION').trim(), value('Section'));
  assert.equal(dumped('PKG_VERSION').trim(), JSON.parse(readFileSync('package.json', 'utf8')).version);
  assert.equal(dumped('PKG_VERSION').trim(), value('Version'));
  assert.equal(dumped('PKG_LICENSE').trim(), value('License'));
  assert.equal(dumped('PKG_MAINTAINER').trim(), value('Maintainer'));
  assert.equal(dumped('URL').trim(), value('URL'));
});

test('conffiles, description and the maintainer scripts are the recipe\'s, as make expands them', () => {
  assert.equal(dumped('conffiles'), controlFile('conffiles'));
  assert.equal(dumped('postinst-pkg'), controlFile('postinst-pkg'));
  assert.equal(dumped('prerm-pkg'), controlFile('prerm-pkg'));
  assert.match(dumped('postinst-pkg'), /\$\{IPKG_INSTROOT\}/, 'make turned $$ into $');
  const control = controlFile('control') ?? '';
  const desc = control.slice(control.indexOf('Description:') + 'Description:'.length);
  const norm = (s: string) => s.split('\n').map((l) => l.trim()).filter(Boolean).join(' ');
  assert.equal(norm(desc), norm(dumped('description')));
});

function tree(root: string, rel = ''): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of readdirSync(join(root, rel)).sort()) {
    const p = rel ? `${rel}/${name}` : name;
    const st = lstatSync(join(root, p));
    out[`./${p}${st.isDirectory() ? '/' : ''}`] = `${st.isDirectory() ? 'dir' : 'file'} ${(st.mode & 0o7777).toString(8)}`;
    if (st.isDirectory()) Object.assign(out, tree(root, p));
  }
  return out;
}

test('Package/wanbond/install lays out the same files, directories and modes as the .ipk', () => {
  const fromIpk = Object.fromEntries(ipkData.filter((e) => e.path !== './').map((e) => [e.path, `${e.type} ${e.mode.toString(8)}`]));
  assert.deepEqual(tree(dest), fromIpk);
  for (const e of ipkData.filter((x) => x.type === 'file')) {
    assert.ok(readFileSync(join(dest, e.path)).equals(e.content), `${e.path} differs`);
  }
});

test('Build/Compile takes the repository\'s prebuilt dist/wanbond.js', () => {
  const built = readdirSync(join(dir, 'build'));
  assert.equal(built.length, 1);
  assert.ok(readFileSync(join(dir, 'build', built[0] ?? '', 'wanbond.js')).equals(readFileSync(resolve('dist/wanbond.js'))));
});
