// Runs test suites with node's test runner (TypeScript through tsx) and closes with the plain
// "N passed, N failed" line. Usage: run-tests.mjs [unit|integration|lab ...] (default: all).
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync, existsSync } from 'node:fs';
import { join } from 'node:path';

const ALL = ['unit', 'integration', 'lab'];
const suites = process.argv.slice(2).length ? process.argv.slice(2) : ALL;

function testFiles(dir) {
  if (!existsSync(dir)) return [];
  const out = [];
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...testFiles(p));
    else if (name.endsWith('.test.ts')) out.push(p);
  }
  return out;
}

const files = suites.flatMap((s) => testFiles(join('test', s)));
if (files.length === 0) {
  console.error(`no test files in: ${suites.join(', ')}`);
  process.exit(1);
}
const res = spawnSync(
  process.execPath,
  [
    '--import', 'tsx',
    '--test',
    '--test-concurrency=1',
    '--test-reporter=spec', '--test-reporter-destination=stdout',
    '--test-reporter=./scripts/count-reporter.mjs', '--test-reporter-destination=stdout',
    ...files,
  ],
  { stdio: 'inherit' },
);
process.exit(res.status ?? 1);
