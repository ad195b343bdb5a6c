// `make ipk`: dist/wanbond_<version>_all.ipk from dist/wanbond.js and files/, reproducibly
// (SOURCE_DATE_EPOCH), without the OpenWrt SDK.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildIpk } from './lib/ipk.mjs';
import { ROOT, wanbondIpkSpec } from './lib/wanbond-package.mjs';

const outDir = process.argv[2] ?? join(ROOT, 'dist');
const { fileName, buffer, installedSize } = buildIpk(wanbondIpkSpec());
mkdirSync(outDir, { recursive: true });
writeFileSync(join(outDir, fileName), buffer);
console.log(`${join(outDir, fileName)}: ${buffer.length} bytes (installed ${installedSize})`);
