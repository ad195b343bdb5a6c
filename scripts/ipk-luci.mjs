// `make ipk` (second step): dist/luci-app-wanbond_<version>_all.ipk from luci/luci-app-wanbond,
// laid out as LuCI's luci.mk installs an app (htdocs -> /www, root -> /), reproducibly
// (SOURCE_DATE_EPOCH), with the postinst of luci/luci-app-wanbond/Makefile.
import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { pathToFileURL } from 'node:url';
import { buildIpk } from './lib/ipk.mjs';
import { HOMEPAGE, LICENSE, MAINTAINER, ROOT, feedDefine, packageVersion } from './lib/wanbond-package.mjs';

export const APP_DIR = join(ROOT, 'luci/luci-app-wanbond');
export const APP_MAKEFILE = join(APP_DIR, 'Makefile');
/** libc first, as OpenWrt's build adds it to every package that is not a kernel module. */
export const LUCI_DEPENDS = ['libc', 'luci-base', 'wanbond'];

function walk(dir) {
  return readdirSync(dir).sort().flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? walk(p) : [p];
  });
}

/** buildIpk spec of luci-app-wanbond: every file under htdocs/ (to /www) and root/ (to /). */
export function luciIpkSpec({ version = packageVersion() } = {}) {
  const makefile = readFileSync(APP_MAKEFILE, 'utf8');
  const title = /^LUCI_TITLE:=(.*)$/m.exec(makefile)?.[1];
  const files = [
    ...walk(join(APP_DIR, 'htdocs')).map((source) => ({ path: `/www/${relative(join(APP_DIR, 'htdocs'), source)}`, mode: 0o644, source })),
    ...walk(join(APP_DIR, 'root')).map((source) => ({ path: `/${relative(join(APP_DIR, 'root'), source)}`, mode: 0o644, source })),
  ];
  return {
    name: 'luci-app-wanbond',
    version,
    depends: LUCI_DEPENDS,
    source: 'luci/luci-app-wanbond',
    sourceName: 'luci-app-wanbond',
    license: LICENSE,
    section: 'luci',
    url: HOMEPAGE,
    maintainer: MAINTAINER,
    architecture: 'all',
    description: `${title}\n`,
    files,
    scripts: { postinst: feedDefine('Package/luci-app-wanbond/postinst', makefile) },
  };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const outDir = process.argv[2] ?? join(ROOT, 'dist');
  const { fileName, buffer, installedSize } = buildIpk(luciIpkSpec());
  mkdirSync(outDir, { recursive: true });
  writeFileSync(join(outDir, fileName), buffer);
  console.log(`${join(outDir, fileName)}: ${buffer.length} bytes (installed ${installedSize})`);
}
