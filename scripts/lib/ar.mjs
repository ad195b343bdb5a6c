// The `ar` container of a Debian package, written the way dpkg-deb writes it: common format,
// names without a trailing slash, owner 0:0, mode 100644, one fixed mtime.
const MAGIC = '!<arch>\n';

/** An ar archive of members [{ name, content }] in the given order (dpkg needs debian-binary first). */
export function writeAr(members, { mtime = 0 } = {}) {
  const parts = [Buffer.from(MAGIC, 'ascii')];
  for (const m of members) {
    if (m.name.length > 16 || /[\s/]/.test(m.name)) throw new Error(`ar: bad member name '${m.name}'`);
    const content = Buffer.from(m.content);
    const header =
      m.name.padEnd(16) + String(mtime).padEnd(12) + '0'.padEnd(6) + '0'.padEnd(6) + '100644'.padEnd(8) +
      String(content.length).padEnd(10) + '`\n';
    parts.push(Buffer.from(header, 'ascii'), content);
    if (content.length % 2) parts.push(Buffer.from('\n'));
  }
  return Buffer.concat(parts);
}

/** Reads an ar archive back into [{ name, content }]. */
export function readAr(buffer) {
  if (buffer.toString('ascii', 0, 8) !== MAGIC) throw new Error('ar: not an ar archive');
  const out = [];
  let offset = 8;
  while (offset + 60 <= buffer.length) {
    const header = buffer.toString('ascii', offset, offset + 60);
    const name = header.slice(0, 16).trim().replace(/\/$/, '');
    const size = Number(header.slice(48, 58).trim());
    out.push({ name, content: Buffer.from(buffer.subarray(offset + 60, offset + 60 + size)) });
    offset += 60 + size + (size % 2);
  }
  return out;
}
