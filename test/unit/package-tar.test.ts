// The packaging library's tar/gzip/ar writers: byte-identical to GNU tar's output for the options
// OpenWrt's ipkg-build uses, readable by the system's tools, and reproducible.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, writeFileSync, chmodSync, symlinkSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { writeTar, readTar, writeTarGz, readTarGz, gzip } from '../../scripts/lib/tar.mjs';
import { writeAr, readAr } from '../../scripts/lib/ar.mjs';

const EPOCH = 1700000000;

test('writeTar is byte-identical to GNU tar --format=gnu --numeric-owner --sort=name (owner 0:0)', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'wb-tar-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const root = join(dir, 'root');
  // Siblings whose bytewise order differs from a plain path sort ("a-b" vs "a/"), a long name
  // (GNU ././@LongLink), a 0700 directory, an executable, a symlink, an empty file.
  mkdirSync(join(root, 'a', 'b'), { recursive: true });
  mkdirSync(join(root, 'a-b'));
  mkdirSync(join(root, 'Keys'));
  chmodSync(join(root, 'Keys'), 0o700);
  writeFileSync(join(root, 'a', 'b', 'run'), '#!/bin/sh\necho hi\n');
  chmodSync(join(root, 'a', 'b', 'run'), 0o755);
  writeFileSync(join(root, 'a', 'n'.repeat(120)), 'x'.repeat(1500));
  chmodSync(join(root, 'a', 'n'.repeat(120)), 0o644);
  writeFileSync(join(root, 'a-b', 'empty'), '');
  chmodSync(join(root, 'a-b', 'empty'), 0o644);
  symlinkSync('../a/b/run', join(root, 'a-b', 'link'));
  const gnu = execFileSync('tar', [
    '--format=gnu', '--numeric-owner', '--owner=0', '--group=0', '--sort=name', `--mtime=@${EPOCH}`, '-C', root, '-cf', '-', '.',
  ], { maxBuffer: 1 << 24 });
  const parsed = readTar(gnu);
  assert.deepEqual(parsed.map((e) => e.path), [
    './', './Keys/', './a/', './a/b/', './a/b/run', `./a/${'n'.repeat(120)}`, './a-b/', './a-b/empty', './a-b/link',
  ]);
  // Rebuilt from what GNU tar stored, handed over in reverse order: the writer sorts it back.
  const mine = writeTar(
    parsed.map(({ path, type, mode, content, linkname }) => ({ path, type, mode, content, linkname })).reverse(),
    { mtime: EPOCH },
  );
  assert.equal(mine.length % 10240, 0);
  assert.ok(mine.equals(gnu), 'writeTar output differs from GNU tar');
});

test('tar entries round-trip; the system tar lists owner 0/0 and the given modes', () => {
  const buf = writeTarGz(
    [
      { path: './', type: 'dir' },
      { path: './etc/secret/', type: 'dir', mode: 0o700 },
      { path: './bin/tool', mode: 0o755, content: 'x' },
    ],
    { mtime: EPOCH },
  );
  const back = readTarGz(buf).map((e) => [e.path, e.type, e.mode.toString(8), e.uid, e.gid, e.mtime]);
  assert.deepEqual(back, [
    ['./', 'dir', '755', 0, 0, EPOCH],
    ['./bin/tool', 'file', '755', 0, 0, EPOCH],
    ['./etc/secret/', 'dir', '700', 0, 0, EPOCH],
  ]);
  const listing = execFileSync('tar', ['-tvzf', '-', '--numeric-owner'], { input: buf }).toString();
  assert.match(listing, /^-rwxr-xr-x 0\/0 +1 .* \.\/bin\/tool$/m);
  assert.match(listing, /^drwx------ 0\/0 +0 .* \.\/etc\/secret\/$/m);
});

test('writeTar refuses duplicate paths and file paths ending in /', () => {
  assert.throws(() => writeTar([{ path: './a' }, { path: './a' }]), /twice/);
  assert.throws(() => writeTar([{ path: './a/', type: 'file' }]), /not a directory/);
});

test('gzip writes no file name and no timestamp, and the same bytes every time', () => {
  const data = Buffer.from('wanbond '.repeat(1000));
  const a = gzip(data);
  assert.equal(a[3], 0, 'FLG: no name, no comment');
  assert.equal(a.readUInt32LE(4), 0, 'MTIME is zero');
  assert.ok(a.equals(gzip(data)));
  assert.ok(gunzipSync(a).equals(data));
});

test('writeAr is what ar(1) reads, members in order with their content', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'wb-ar-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const members = [
    { name: 'debian-binary', content: '2.0\n' },
    { name: 'odd', content: 'abc' },
    { name: 'data.tar.gz', content: Buffer.from([1, 2, 3, 4]) },
  ];
  const file = join(dir, 'x.a');
  writeFileSync(file, writeAr(members, { mtime: EPOCH }));
  assert.deepEqual(execFileSync('ar', ['t', file]).toString().trim().split('\n'), ['debian-binary', 'odd', 'data.tar.gz']);
  assert.equal(execFileSync('ar', ['p', file, 'odd']).toString(), 'abc');
  assert.deepEqual(readAr(readFileSync(file)).map((m) => [m.name, m.content.toString('hex')]), [
    ['debian-binary', Buffer.from('2.0\n').toString('hex')], ['odd', '616263'], ['data.tar.gz', '01020304'],
  ]);
});
