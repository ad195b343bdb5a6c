import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import { resolve } from 'node:path';

const pkg = JSON.parse(readFileSync('package.json', 'utf8'));

test('the bundle is one executable file with a node shebang, under 1 MiB', () => {
  const text = readFileSync('dist/wanbond.js', 'utf8');
  assert.ok(text.startsWith('#!/usr/bin/env node\n'));
  assert.ok(statSync('dist/wanbond.js').size < 1024 * 1024);
  assert.ok(statSync('dist/wanbond.js').mode & 0o100);
});

test('wanbond --version prints the package version, with no node_modules in reach', () => {
  const out = execFileSync(process.execPath, [resolve('dist/wanbond.js'), '--version'], {
    cwd: '/', env: { PATH: process.env.PATH ?? '/usr/bin:/bin', NODE_PATH: '' },
  }).toString().trim();
  assert.equal(out, pkg.version);
});
