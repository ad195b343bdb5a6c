// `make deb`: dist/wanbond_<version>_all.deb, the concentrator's Debian/Ubuntu package,
// reproducibly (SOURCE_DATE_EPOCH), without dpkg-deb.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildDeb } from './lib/deb.mjs';
import { ROOT, wanbondDebSpec } from './lib/wanbond-package.mjs';

const outDir = process.argv[2] ?? join(ROOT, 'dist');
const { fileName, buffer, installedSize } = buildDeb(wanbondDebSpec());
mkdirSync(outDir, { recursive: true });
writeFileSync(join(outDir, fileName), buffer);
console.log(`${join(outDir, fileName)}: ${buffer.length} bytes (installed ${installedSize} KiB)`);
