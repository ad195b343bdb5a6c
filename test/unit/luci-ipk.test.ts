// dist/luci-app-wanbond_<version>_all.ipk: laid out as LuCI's luci.mk installs an app, with the
// depends and postinst of luci/luci-app-wanbond/Makefile (read by GNU make against a stand-in
// luci.mk, in the LuCI feed's directory layout), and no file shared with the wanbond .ipk, so
// opkg installs both side by side.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildIpk } from '../../scripts/lib/ipk.mjs';
import { readTarGz, type TarEntry } from '../../scripts/lib/tar.mjs';
import { wanbondIpkSpec } from '../../scripts/lib/wanbond-package.mjs';

const APP = fileURLToPath(new URL('../../luci/luci-app-wanbond/', import.meta.url));
const script = '../../scripts/ipk-luci.mjs';
const { luciIpkSpec } = (await import(script)) as { luciIpkSpec: (o?: { version?: string }) => Parameters<typeof buildIpk>[0] };

// What the recipe says, as make expands it (a stand-in for feeds/luci/luci.mk dumps it).
const LUCI_MK = `
PKG_NAME?=$(notdir $(CURDIR))
dump:
	$(file >$(DUMP)/LUCI_DEPENDS,$(LUCI_DEPENDS))
	$(file >$(DUMP)/LUCI_PKGARCH,$(LUCI_PKGARCH))
	$(file >$(DUMP)/LUCI_TITLE,$(LUCI_TITLE))
	$(file >$(DUMP)/postinst,$(Package/$(PKG_NAME)/postinst))
`;

function walk(dir: string): string[] {
  return readdirSync(dir).sort().flatMap((n) => (statSync(join(dir, n)).isDirectory() ? walk(join(dir, n)) : [join(dir, n)]));
}

describe('luci-app-wanbond .ipk', () => {
  let tmp = '';
  let dump: (name: string) => string;
  let data: TarEntry[] = [];
  let control: TarEntry[] = [];
  let fileName = '';

  before(() => {
    tmp = mkdtempSync(join(tmpdir(), 'wb-luci-'));
    const appDir = join(tmp, 'feeds/luci/applications/luci-app-wanbond');
    mkdirSync(appDir, { recursive: true });
    mkdirSync(join(tmp, 'dump'));
    copyFileSync(join(APP, 'Makefile'), join(appDir, 'Makefile'));
    writeFileSync(join(tmp, 'feeds/luci/luci.mk'), LUCI_MK);
    writeFileSync(join(tmp, 'rules.mk'), '# stand-in for OpenWrt rules.mk\n');
    execFileSync('make', ['-s', '-C', appDir, `TOPDIR=${tmp}`, `DUMP=${join(tmp, 'dump')}`, 'dump'], { stdio: 'pipe', env: { ...process.env, MAKEFLAGS: '' } });
    dump = (name) => readFileSync(join(tmp, 'dump', name), 'utf8');

    const built = buildIpk(luciIpkSpec({ version: '1.2.3' }));
    fileName = built.fileName;
    const outer = readTarGz(built.buffer);
    assert.deepEqual(outer.map((e) => e.path), ['./debian-binary', './data.tar.gz', './control.tar.gz']);
    data = readTarGz(outer.find((e) => e.path === './data.tar.gz')!.content);
    control = readTarGz(outer.find((e) => e.path === './control.tar.gz')!.content);
  });
  after(() => rmSync(tmp, { recursive: true, force: true }));

  const controlFile = (name: string) => control.find((e) => e.path === `./${name}`)?.content.toString() ?? '';

  it('is named and described as OpenWrt names an architecture-independent LuCI app', () => {
    assert.equal(fileName, 'luci-app-wanbond_1.2.3_all.ipk');
    const c = controlFile('control');
    assert.match(c, /^Package: luci-app-wanbond$/m);
    assert.match(c, /^Version: 1\.2\.3$/m);
    assert.match(c, /^Architecture: all$/m);
    assert.match(c, /^Section: luci$/m);
    assert.equal(dump('LUCI_PKGARCH').trim(), 'all');
    assert.match(c, new RegExp(`^Description:  ${dump('LUCI_TITLE').trim().replace(/[()]/g, '\\$&')}$`, 'm'));
  });

  it("depends on luci-base and wanbond, as the recipe's LUCI_DEPENDS (plus OpenWrt's implicit libc)", () => {
    const recipe = dump('LUCI_DEPENDS').trim().split(/\s+/);
    assert.deepEqual(recipe, ['+luci-base', '+wanbond']);
    assert.equal(/^Depends: (.*)$/m.exec(controlFile('control'))?.[1], ['libc', ...recipe.map((d) => d.slice(1))].join(', '));
  });

  it('installs htdocs under /www and root under /, as luci.mk does, and nothing else', () => {
    const expected = [
      ...walk(join(APP, 'htdocs')).map((f) => `./www/${relative(join(APP, 'htdocs'), f)}`),
      ...walk(join(APP, 'root')).map((f) => `./${relative(join(APP, 'root'), f)}`),
    ].sort();
    const files = data.filter((e) => e.type === 'file');
    assert.deepEqual(files.map((e) => e.path).sort(), expected);
    for (const p of [
      './www/luci-static/resources/view/wanbond/status.js',
      './www/luci-static/resources/view/wanbond/settings.js',
      './usr/share/luci/menu.d/luci-app-wanbond.json',
      './usr/share/rpcd/acl.d/luci-app-wanbond.json',
    ]) assert.ok(expected.includes(p), p);
    for (const e of data) {
      assert.equal(e.uid, 0);
      assert.equal(e.gid, 0);
      assert.equal(e.mode, e.type === 'dir' ? 0o755 : 0o644, e.path);
    }
    for (const f of files) assert.deepEqual(f.content, readFileSync(f.path.startsWith('./www/') ? join(APP, 'htdocs', f.path.slice(6)) : join(APP, 'root', f.path.slice(2))), f.path);
  });

  it("runs the recipe's postinst: clears LuCI's caches and reloads rpcd, on a live system only", () => {
    const postinst = controlFile('postinst-pkg');
    assert.equal(postinst, dump('postinst'));
    assert.match(postinst, /^\[ -n "\$\{IPKG_INSTROOT\}" \] && exit 0$/m);
    const live = postinst.slice(postinst.indexOf('exit 0'));
    assert.match(live, /rm -f \/tmp\/luci-indexcache\*/);
    assert.match(live, /\/etc\/init\.d\/rpcd reload/);
    // OpenWrt's generated wrapper runs it through default_postinst
    assert.match(controlFile('postinst'), /default_postinst \$0 \$@/);
  });

  it('runs as sh: in an image build it touches nothing, on a live system it does its three things', () => {
    const postinst = controlFile('postinst-pkg');
    const bin = join(tmp, 'bin');
    mkdirSync(bin, { recursive: true });
    const log = join(tmp, 'calls');
    for (const cmd of ['rm']) writeFileSync(join(bin, cmd), `#!/bin/sh\necho "${cmd} $*" >> ${log}\n`, { mode: 0o755 });
    const rpcd = join(tmp, 'rpcd');
    writeFileSync(rpcd, `#!/bin/sh\necho "rpcd $*" >> ${log}\n`, { mode: 0o755 });
    const script = postinst.replace('/etc/init.d/rpcd', rpcd);
    const run = (env: Record<string, string>) => {
      rmSync(log, { force: true });
      execFileSync('sh', ['-c', script], { env: { PATH: `${bin}:/usr/bin:/bin`, ...env } });
      try { return readFileSync(log, 'utf8'); } catch { return ''; }
    };
    assert.equal(run({ IPKG_INSTROOT: '/build/root' }), '');
    assert.equal(run({}), 'rm -f /tmp/luci-indexcache*\nrm -rf /tmp/luci-modulecache/\nrpcd reload\n');
  });

  it('shares no file with the wanbond .ipk', () => {
    const wanbond = wanbondIpkSpec().files.filter((f) => f.type !== 'dir').map((f) => `.${f.path}`);
    const luci = data.filter((e) => e.type !== 'dir').map((e) => e.path);
    assert.ok(wanbond.length > 3 && luci.length > 3);
    assert.deepEqual(luci.filter((p) => wanbond.includes(p)), []);
  });
});
