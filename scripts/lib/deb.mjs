// Builds a Debian binary package (.deb) without dpkg-deb, reproducibly: an ar archive holding
// debian-binary, control.tar.gz, data.tar.gz (dpkg's required order), tars as in ipk.mjs.
import { createHash } from 'node:crypto';
import { writeAr } from './ar.mjs';
import { payloadEntries } from './ipk.mjs';
import { sourceDateEpoch, writeTarGz } from './tar.mjs';

/** Installed-Size the way dpkg-gencontrol counts it: KiB per file rounded up, 1 per directory or link. */
function installedKiB(entries) {
  return entries.reduce((sum, e) => sum + (e.type === 'file' ? Math.ceil(e.content.length / 1024) : 1), 0);
}

/** Debian control: short description on the Description line, the rest indented, blank lines as ' .'. */
export function debControlText(p, installedSize) {
  const [summary, ...rest] = String(p.description).replace(/\n+$/, '').split('\n');
  const fields = [
    ['Package', p.name],
    ['Version', p.version],
    ['Architecture', p.architecture ?? 'all'],
    ['Maintainer', p.maintainer],
    ['Installed-Size', String(installedSize)],
    ['Depends', (p.depends ?? []).join(', ')],
    ['Recommends', (p.recommends ?? []).join(', ')],
    ['Section', p.section],
    ['Priority', p.priority ?? 'optional'],
    ['Homepage', p.homepage],
  ];
  const lines = fields.filter(([, v]) => v !== undefined && v !== '').map(([k, v]) => `${k}: ${v}`);
  const body = rest.map((l) => (l.trim() === '' ? ' .' : ` ${l.trim()}`));
  return `${lines.join('\n')}\nDescription: ${summary}\n${body.map((l) => `${l}\n`).join('')}`;
}

/**
 * Builds `<name>_<version>_<architecture>.deb`.
 * spec: { name, version, architecture? ('all'), maintainer, depends?: string[], recommends?,
 *   section?, priority?, homepage?, description (first line = synopsis), files (as buildIpk),
 *   conffiles?: string[], scripts?: { preinst?, postinst?, prerm?, postrm? }, sourceDateEpoch? }.
 * Returns { fileName, buffer, control, installedSize }.
 */
export function buildDeb(spec) {
  const mtime = spec.sourceDateEpoch ?? sourceDateEpoch();
  const data = payloadEntries(spec.files);
  const regular = new Set(data.filter((e) => e.type === 'file').map((e) => e.path.slice(1)));
  const conffiles = [...(spec.conffiles ?? [])].sort();
  for (const c of conffiles) if (!regular.has(c)) throw new Error(`conffile ${c} is not a regular file of the package`);

  const installedSize = installedKiB(data);
  const control = debControlText(spec, installedSize);
  const md5sums = data
    .filter((e) => e.type === 'file' && !conffiles.includes(e.path.slice(1)))
    .map((e) => `${createHash('md5').update(e.content).digest('hex')}  ${e.path.slice(2)}\n`)
    .join('');
  const controlEntries = [
    { path: './', type: 'dir', mode: 0o755 },
    { path: './control', content: control, mode: 0o644 },
    { path: './md5sums', content: md5sums, mode: 0o644 },
  ];
  if (conffiles.length) controlEntries.push({ path: './conffiles', content: conffiles.map((c) => `${c}\n`).join(''), mode: 0o644 });
  for (const [name, text] of Object.entries(spec.scripts ?? {})) {
    if (!['preinst', 'postinst', 'prerm', 'postrm'].includes(name)) throw new Error(`unknown maintainer script '${name}'`);
    controlEntries.push({ path: `./${name}`, content: text, mode: 0o755 });
  }
  const buffer = writeAr(
    [
      { name: 'debian-binary', content: '2.0\n' },
      { name: 'control.tar.gz', content: writeTarGz(controlEntries, { mtime }) },
      { name: 'data.tar.gz', content: writeTarGz(data, { mtime }) },
    ],
    { mtime },
  );
  const architecture = spec.architecture ?? 'all';
  return { fileName: `${spec.name}_${spec.version}_${architecture}.deb`, buffer, control, installedSize };
}
