// The licenses of the npm packages bundled into dist/wanbond.js (MIT and friends require their
// notices to travel with the code, and the bundle is minified without comments). The list is
// the production dependency closure from package-lock.json, type-only packages left out, so it
// may name a package the bundler dropped, never miss one it kept.
// `node scripts/lib/licenses.mjs` prints the file shipped as files/usr/lib/wanbond/THIRD-PARTY-LICENSES.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const TYPES_ONLY = /^(@types\/.*|undici-types)$/;

/** [{ name, version, license, text }] of the bundled npm packages, sorted by name and version. */
export function bundledPackages(root) {
  const lock = JSON.parse(readFileSync(join(root, 'package-lock.json'), 'utf8'));
  const out = [];
  for (const [path, meta] of Object.entries(lock.packages ?? {})) {
    if (path === '' || meta.dev || meta.devOptional) continue;
    const name = path.slice(path.lastIndexOf('node_modules/') + 'node_modules/'.length);
    if (TYPES_ONLY.test(name)) continue;
    const dir = join(root, path);
    if (!existsSync(dir)) throw new Error(`${path} is in package-lock.json but not installed (npm ci)`);
    const file = readdirSync(dir).sort().find((f) => /^licen[cs]e/i.test(f));
    const text = file ? readFileSync(join(dir, file), 'utf8').replace(/\r\n/g, '\n').trim() : `License: ${meta.license}`;
    out.push({ name, version: meta.version, license: meta.license ?? 'see text', text });
  }
  const seen = new Set();
  return out
    .sort((a, b) => (a.name === b.name ? (a.version < b.version ? -1 : 1) : a.name < b.name ? -1 : 1))
    .filter((p) => !seen.has(`${p.name}@${p.version}`) && seen.add(`${p.name}@${p.version}`));
}

const APACHE_2 = /^\s*Apache License\s+Version 2\.0, January 2004/;

/**
 * The notices file: every bundled package with its license text. With `commonLicenses` (Debian)
 * a full Apache-2.0 text becomes a pointer to /usr/share/common-licenses, as policy 12.5 asks.
 */
export function thirdPartyLicenses(root, { commonLicenses = false } = {}) {
  const parts = bundledPackages(root).map((p) => {
    const text = commonLicenses && APACHE_2.test(p.text)
      ? 'On Debian systems the full text of the Apache License 2.0 is in\n/usr/share/common-licenses/Apache-2.0.'
      : p.text;
    return `--- ${p.name} ${p.version} (${p.license})\n\n${text}\n`;
  });
  return (
    'wanbond.js bundles the following npm packages. Their licenses and notices follow.\n\n' + parts.join('\n')
  );
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  process.stdout.write(thirdPartyLicenses(fileURLToPath(new URL('../..', import.meta.url))));
}
