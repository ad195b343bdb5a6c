// Bundles the agent into one CommonJS file that the router's node (18+) runs with no node_modules.
import { build } from 'esbuild';
import { readFileSync, statSync, chmodSync, writeFileSync } from 'node:fs';

const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
const outfile = 'dist/wanbond.js';
const MAX_BYTES = 1024 * 1024;

await build({
  entryPoints: ['src/cli/main.ts'],
  outfile,
  bundle: true,
  platform: 'node',
  target: 'node18',
  format: 'cjs',
  minify: true,
  legalComments: 'none',
  banner: {
    js: '#!/usr/bin/env node\nconst __import_meta_url=require("url").pathToFileURL(__filename).href;',
  },
  define: {
    'import.meta.url': '__import_meta_url',
    __WANBOND_VERSION__: JSON.stringify(pkg.version),
  },
  logLevel: 'warning',
});
chmodSync(outfile, 0o755);
// The repo is "type": "module"; the bundle is CommonJS, as it is on the router (no package.json there).
writeFileSync('dist/package.json', '{ "type": "commonjs" }\n');
const size = statSync(outfile).size;
if (size > MAX_BYTES) {
  console.error(`${outfile} is ${size} bytes, over the 1 MiB budget`);
  process.exit(1);
}
console.log(`${outfile}: ${size} bytes`);
