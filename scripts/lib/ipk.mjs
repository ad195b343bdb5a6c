// Builds an OpenWrt .ipk without the SDK, byte for byte in the form OpenWrt's own build writes
// (include/package-pack.mk + scripts/ipkg-build): a gzip'd GNU tar holding ./debian-binary,
// ./data.tar.gz, ./control.tar.gz (ipkg-build's order; opkg reads the members by name).
import { readFileSync } from 'node:fs';
import { sourceDateEpoch, writeTar, gzip } from './tar.mjs';

/** Files + explicit directories -> data tar entries, with every parent directory (0755) added. */
export function payloadEntries(files) {
  const entries = new Map();
  const addDir = (dir, mode) => {
    const path = `.${dir.replace(/\/+$/, '')}/`;
    const prev = entries.get(path);
    if (prev && prev.type !== 'dir') throw new Error(`${dir} is both a file and a directory`);
    if (!prev || mode !== undefined) entries.set(path, { path, type: 'dir', mode: mode ?? prev?.mode ?? 0o755 });
  };
  addDir('/');
  for (const f of files) {
    if (!f.path.startsWith('/') || f.path.split('/').includes('..')) throw new Error(`payload path must be absolute: ${f.path}`);
    const parts = f.path.split('/').filter(Boolean);
    for (let i = 1; i < parts.length; i++) {
      const dir = `/${parts.slice(0, i).join('/')}`;
      if (!entries.has(`.${dir}/`)) addDir(dir);
    }
    if (f.type === 'dir') {
      addDir(f.path, f.mode);
      continue;
    }
    const path = `.${f.path}`;
    if (entries.has(path)) throw new Error(`${f.path} is listed twice`);
    if (f.type === 'symlink') {
      entries.set(path, { path, type: 'symlink', mode: 0o777, linkname: f.linkname });
      continue;
    }
    const content = f.content !== undefined ? Buffer.from(f.content) : readFileSync(f.source);
    entries.set(path, { path, type: 'file', mode: f.mode ?? 0o644, content });
  }
  return [...entries.values()];
}

/**
 * OpenWrt's control file: fields in package-pack.mk's order, optional ones only when set;
 * the description's lines each start with one space (`sed 's,^[[:space:]]*, ,'`), the first
 * one too, so it reads `Description:  First line` as OpenWrt's packages do.
 */
export function controlText(p, installedSize) {
  const depends = p.depends ?? [];
  const fields = [
    ['Package', p.name],
    ['Version', p.version],
    ['Depends', depends.join(', ')],
    ['Provides', (p.provides ?? []).join(', ')],
    ['Source', p.source],
    ['SourceName', p.sourceName],
    ['License', p.license],
    ['Section', p.section],
    ['SourceDateEpoch', p.sourceDateEpoch === undefined ? undefined : String(p.sourceDateEpoch)],
    ['URL', p.url],
    ['Maintainer', p.maintainer],
    ['Architecture', p.architecture ?? 'all'],
    ['Installed-Size', String(installedSize)],
  ];
  const lines = fields.filter(([, v]) => v !== undefined && v !== '').map(([k, v]) => `${k}: ${v}`);
  const description = String(p.description ?? '').replace(/\n+$/, '').split('\n').map((l) => ` ${l.replace(/^\s*/, '')}`);
  return `${lines.join('\n')}\nDescription: ${description.join('\n')}\n`;
}

/** The postinst/prerm that OpenWrt generates for every package (package-pack.mk). */
export const OPENWRT_POSTINST =
  '#!/bin/sh\n' +
  '[ "${IPKG_NO_SCRIPT}" = "1" ] && exit 0\n' +
  '[ -s ${IPKG_INSTROOT}/lib/functions.sh ] || exit 0\n' +
  '. ${IPKG_INSTROOT}/lib/functions.sh\n' +
  'default_postinst $0 $@\n';
export const OPENWRT_PRERM =
  '#!/bin/sh\n' +
  '[ -s ${IPKG_INSTROOT}/lib/functions.sh ] || exit 0\n' +
  '. ${IPKG_INSTROOT}/lib/functions.sh\n' +
  'default_prerm $0 $@\n';

/**
 * Builds `<name>_<version>_<architecture>.ipk`.
 * spec: { name, version, depends?: string[], provides?, source?, sourceName?, license?, section?,
 *   url?, maintainer?, architecture? ('all'), description, files: [{ path, mode?, content | source,
 *   type?: 'file'|'dir'|'symlink', linkname? }], conffiles?: string[], scripts?: { postinst?,
 *   prerm?, preinst?, postrm? }, sourceDateEpoch? (default SOURCE_DATE_EPOCH) }.
 * scripts.postinst / scripts.prerm become postinst-pkg / prerm-pkg, run by default_postinst /
 * default_prerm; the generated postinst / prerm wrappers are always present, as in OpenWrt.
 * Returns { fileName, buffer, control, installedSize }.
 */
export function buildIpk(spec) {
  if (!/^[a-z0-9][a-z0-9.+-]*$/.test(spec.name)) throw new Error(`bad package name '${spec.name}'`);
  if (!/^[A-Za-z0-9.+~:-]+$/.test(spec.version)) throw new Error(`bad version '${spec.version}'`);
  const mtime = spec.sourceDateEpoch ?? sourceDateEpoch();
  const data = payloadEntries(spec.files);

  const regular = new Set(data.filter((e) => e.type === 'file').map((e) => e.path.slice(1)));
  const conffiles = [...(spec.conffiles ?? [])].sort();
  for (const c of conffiles) if (!regular.has(c)) throw new Error(`conffile ${c} is not a regular file of the package`);

  const dataTar = writeTar(data, { mtime });
  const installedSize = dataTar.length;
  const control = controlText({ ...spec, sourceDateEpoch: spec.sourceDateEpoch ?? mtime }, installedSize);

  const scripts = spec.scripts ?? {};
  const controlEntries = [
    { path: './', type: 'dir', mode: 0o755 },
    { path: './control', content: control, mode: 0o644 },
    { path: './postinst', content: OPENWRT_POSTINST, mode: 0o755 },
    { path: './prerm', content: OPENWRT_PRERM, mode: 0o755 },
  ];
  if (conffiles.length) controlEntries.push({ path: './conffiles', content: conffiles.map((c) => `${c}\n`).join(''), mode: 0o644 });
  const asIs = { postinst: 'postinst-pkg', prerm: 'prerm-pkg', preinst: 'preinst', postrm: 'postrm' };
  for (const [key, file] of Object.entries(asIs)) {
    if (scripts[key] !== undefined) controlEntries.push({ path: `./${file}`, content: scripts[key], mode: 0o755 });
  }
  for (const key of Object.keys(scripts)) if (!(key in asIs)) throw new Error(`unknown maintainer script '${key}'`);

  const outer = writeTar(
    [
      { path: './debian-binary', content: '2.0\n', mode: 0o644 },
      { path: './data.tar.gz', content: gzip(dataTar), mode: 0o644 },
      { path: './control.tar.gz', content: gzip(writeTar(controlEntries, { mtime })), mode: 0o644 },
    ],
    { mtime, sort: false },
  );
  const architecture = spec.architecture ?? 'all';
  return { fileName: `${spec.name}_${spec.version}_${architecture}.ipk`, buffer: gzip(outer), control, installedSize };
}
