// Reproducible tar + gzip written in JS, so that a package's bytes do not depend on the host's
// tar or gzip version. The output matches what OpenWrt's ipkg-build gets from
// `tar --format=gnu --numeric-owner --sort=name --mtime=@EPOCH` (owner 0:0) piped to `gzip -n`:
// GNU headers, entries in directory-walk order with names sorted bytewise, every mtime the same,
// the archive padded to whole 10240-byte records.
import { gzipSync, gunzipSync } from 'node:zlib';

const BLOCK = 512;
const RECORD = 20 * BLOCK;
const TYPE_FLAG = { file: '0', symlink: '2', dir: '5' };
const FLAG_TYPE = { '0': 'file', '\0': 'file', '2': 'symlink', '5': 'dir' };

/** SOURCE_DATE_EPOCH as a number of seconds; 0 when unset (still reproducible). */
export function sourceDateEpoch(env = process.env) {
  const raw = env.SOURCE_DATE_EPOCH;
  if (raw === undefined || raw === '') return 0;
  if (!/^\d+$/.test(raw)) throw new Error(`SOURCE_DATE_EPOCH must be whole seconds, got '${raw}'`);
  return Number(raw);
}

function octal(value, width) {
  // GNU tar: zero-padded octal digits, then NUL, filling the field.
  const digits = value.toString(8);
  if (digits.length > width - 1) throw new Error(`tar: ${value} does not fit in ${width} bytes`);
  return digits.padStart(width - 1, '0') + '\0';
}

function header({ name, mode, size, mtime, type, linkname = '' }) {
  const h = Buffer.alloc(BLOCK);
  h.write(name, 0, 100, 'utf8');
  h.write(octal(mode & 0o7777, 8), 100, 'ascii');
  h.write(octal(0, 8), 108, 'ascii'); // uid 0
  h.write(octal(0, 8), 116, 'ascii'); // gid 0
  h.write(octal(size, 12), 124, 'ascii');
  h.write(octal(mtime, 12), 136, 'ascii');
  h.write(' '.repeat(8), 148, 'ascii'); // checksum is computed with this field as spaces
  h.write(type, 156, 'ascii');
  h.write(linkname, 157, 100, 'utf8');
  h.write('ustar  \0', 257, 'ascii'); // GNU magic + version
  // uname/gname stay empty: --numeric-owner.
  let sum = 0;
  for (const byte of h) sum += byte;
  h.write(sum.toString(8).padStart(6, '0') + '\0 ', 148, 'ascii');
  return h;
}

function padded(content) {
  const rest = content.length % BLOCK;
  return rest === 0 ? [content] : [content, Buffer.alloc(BLOCK - rest)];
}

/** Names longer than the 100-byte header field get a GNU ././@LongLink record first. */
function longName(name, flag) {
  const bytes = Buffer.from(name + '\0', 'utf8');
  return [header({ name: '././@LongLink', mode: 0o644, size: bytes.length, mtime: 0, type: flag }), ...padded(bytes)];
}

function compareComponents(a, b) {
  // Directory-walk order: a directory precedes what it holds; siblings sorted bytewise (C locale).
  const pa = a.split('/').filter(Boolean);
  const pb = b.split('/').filter(Boolean);
  for (let i = 0; i < Math.min(pa.length, pb.length); i++) {
    const c = Buffer.compare(Buffer.from(pa[i]), Buffer.from(pb[i]));
    if (c !== 0) return c;
  }
  return pa.length - pb.length;
}

function normalise(entry) {
  const type = entry.type ?? 'file';
  if (!(type in TYPE_FLAG)) throw new Error(`tar: unknown entry type '${type}' for ${entry.path}`);
  let name = entry.path;
  if (type === 'dir' && !name.endsWith('/')) name += '/';
  if (type !== 'dir' && name.endsWith('/')) throw new Error(`tar: ${name} ends in / but is not a directory`);
  const content =
    type === 'file'
      ? Buffer.isBuffer(entry.content) ? entry.content : Buffer.from(entry.content ?? '', 'utf8')
      : Buffer.alloc(0);
  const mode = entry.mode ?? (type === 'dir' ? 0o755 : type === 'symlink' ? 0o777 : 0o644);
  return { name, type, mode, content, linkname: entry.linkname ?? '' };
}

/**
 * A GNU tar archive of `entries` ({ path, type?: 'file'|'dir'|'symlink', mode?, content?, linkname? }).
 * Paths are written as given (callers use './'-prefixed ones); every entry gets owner 0:0 and
 * mtime `options.mtime` (default SOURCE_DATE_EPOCH). Entries are sorted in directory-walk order
 * unless `options.sort` is false (the .ipk's outer archive keeps ipkg-build's member order).
 */
export function writeTar(entries, options = {}) {
  const mtime = options.mtime ?? sourceDateEpoch();
  const list = entries.map(normalise);
  const seen = new Set();
  for (const e of list) {
    if (seen.has(e.name)) throw new Error(`tar: ${e.name} appears twice`);
    seen.add(e.name);
  }
  if (options.sort !== false) list.sort((a, b) => compareComponents(a.name, b.name));
  const parts = [];
  for (const e of list) {
    if (Buffer.byteLength(e.linkname) > 100) parts.push(...longName(e.linkname, 'K'));
    if (Buffer.byteLength(e.name) > 100) parts.push(...longName(e.name, 'L'));
    parts.push(header({ name: e.name, mode: e.mode, size: e.content.length, mtime, type: TYPE_FLAG[e.type], linkname: e.linkname }));
    if (e.content.length) parts.push(...padded(e.content));
  }
  parts.push(Buffer.alloc(2 * BLOCK));
  const body = Buffer.concat(parts);
  const rest = body.length % RECORD;
  return rest === 0 ? body : Buffer.concat([body, Buffer.alloc(RECORD - rest)]);
}

/** gzip with no name and no timestamp in the header (what `gzip -n` writes), level 9. */
export function gzip(buffer) {
  return gzipSync(buffer, { level: 9 });
}

/** writeTar + gzip: the form of an .ipk and of its control.tar.gz / data.tar.gz. */
export function writeTarGz(entries, options = {}) {
  return gzip(writeTar(entries, options));
}

function field(h, start, length) {
  const raw = h.subarray(start, start + length);
  const end = raw.indexOf(0);
  return raw.subarray(0, end === -1 ? length : end).toString('utf8');
}

/** Reads a tar archive back into entries ({ path, type, mode, uid, gid, mtime, content, linkname }). */
export function readTar(buffer) {
  const out = [];
  let offset = 0;
  let pendingName;
  let pendingLink;
  while (offset + BLOCK <= buffer.length) {
    const h = buffer.subarray(offset, offset + BLOCK);
    if (h.every((b) => b === 0)) break;
    const size = parseInt(field(h, 124, 12) || '0', 8);
    const flag = String.fromCharCode(h[156] ?? 0);
    const content = Buffer.from(buffer.subarray(offset + BLOCK, offset + BLOCK + size));
    offset += BLOCK + Math.ceil(size / BLOCK) * BLOCK;
    if (flag === 'L' || flag === 'K') {
      const value = content.subarray(0, content.indexOf(0) === -1 ? content.length : content.indexOf(0)).toString('utf8');
      if (flag === 'L') pendingName = value;
      else pendingLink = value;
      continue;
    }
    const type = FLAG_TYPE[flag];
    if (!type) throw new Error(`tar: unsupported entry type '${flag}'`);
    const prefix = field(h, 345, 155);
    const name = pendingName ?? (prefix && h.toString('ascii', 257, 263) === 'ustar\0' ? `${prefix}/` : '') + field(h, 0, 100);
    out.push({
      path: name,
      type,
      mode: parseInt(field(h, 100, 8), 8),
      uid: parseInt(field(h, 108, 8), 8),
      gid: parseInt(field(h, 116, 8), 8),
      mtime: parseInt(field(h, 136, 12), 8),
      linkname: pendingLink ?? field(h, 157, 100),
      content,
    });
    pendingName = pendingLink = undefined;
  }
  return out;
}

/** readTar of a gzip-compressed archive. */
export function readTarGz(buffer) {
  return readTar(gunzipSync(buffer));
}
