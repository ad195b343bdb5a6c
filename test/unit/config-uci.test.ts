// The UCI parser and writer against libuci. uci cannot run here as part of the suite, so the
// expected outputs under test/fixtures/config/uci*/ were recorded once with `uci export`,
// `uci -X show` (for anonymous section names) and uci's parse errors, from openwrt/uci built
// at commit 66127cd; each .uci input sits next to what uci printed for it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseUci } from '../../src/config/uci-parse.ts';
import { writeUci } from '../../src/config/uci-write.ts';
import type { UciDocument } from '../../src/config/uci-document.ts';

const UCI = 'test/fixtures/config/uci';
const UCI_ERRORS = 'test/fixtures/config/uci-errors';

function inputs(dir: string, ext: string): string[] {
  return readdirSync(dir).filter((f) => f.endsWith(ext)).sort().map((f) => join(dir, f));
}

function parsed(text: string, file = '/etc/config/wanbond'): UciDocument {
  const r = parseUci(text, file);
  if (!r.ok) assert.fail(`unexpected parse errors: ${JSON.stringify(r.errors)}`);
  return r.doc;
}

/** The document without line numbers: what uci itself would hold. */
function content(doc: UciDocument): unknown {
  return {
    package: doc.package,
    sections: doc.sections.map((s) => ({
      type: s.type,
      name: s.name,
      anonymous: s.anonymous,
      options: s.options.map((o) => (o.kind === 'option' ? { option: o.name, value: o.value } : { list: o.name, values: o.values })),
    })),
  };
}

test('recorded fixtures: our export is byte-identical to `uci export`', () => {
  const files = inputs(UCI, '.uci');
  assert.ok(files.length >= 7);
  for (const f of files) {
    const doc = parsed(readFileSync(f, 'utf8'));
    assert.equal(writeUci(doc), readFileSync(f.replace(/\.uci$/, '.export'), 'utf8'), f);
  }
});

test('recorded fixtures: anonymous sections get the names `uci -X show` prints', () => {
  let seen = 0;
  for (const f of inputs(UCI, '.uci')) {
    const doc = parsed(readFileSync(f, 'utf8'));
    const expected = readFileSync(f.replace(/\.uci$/, '.names'), 'utf8').split('\n').filter(Boolean);
    assert.deepEqual(doc.sections.filter((s) => s.anonymous).map((s) => s.name), expected, f);
    seen += expected.length;
  }
  assert.ok(seen >= 3);
});

test('recorded parse errors: same reason and line as uci (an open quote: the line it opened on)', () => {
  const files = inputs(UCI_ERRORS, '.uci');
  assert.ok(files.length >= 10);
  for (const f of files) {
    const recorded = readFileSync(f.replace(/\.uci$/, '.error'), 'utf8');
    const m = /^Parse error \((.*)\) at line (\d+), byte \d+$/m.exec(recorded);
    assert.ok(m, `${f}: recorded error unreadable`);
    const r = parseUci(readFileSync(f, 'utf8'), f);
    assert.equal(r.ok, false, f);
    if (r.ok) continue;
    const first = r.errors[0]!;
    assert.ok(first.message.startsWith(`syntax error: ${m[1]}`), `${f}: '${first.message}' vs uci '${m[1]}'`);
    const opened = /unterminated/.test(m[1]!) ? 2 : Number(m[2]);
    assert.equal(first.line, opened, f);
    assert.equal(first.file, f);
  }
});

test('round trip parse -> write -> parse is identity on every fixture', () => {
  const dirs = ['test/fixtures/config/valid', 'test/fixtures/config/invalid', UCI];
  const files = [...dirs.flatMap((d) => readdirSync(d).filter((f) => !/\.(export|names)$/.test(f)).map((f) => join(d, f))), 'files/etc/config/wanbond'];
  let checked = 0;
  for (const f of files) {
    const first = parseUci(readFileSync(f, 'utf8'), f);
    if (!first.ok) continue; // syntax-error fixtures
    const text = writeUci(first.doc);
    const again = parsed(text, f);
    assert.deepEqual(content(again), content(first.doc), f);
    assert.equal(writeUci(again), text, f);
    checked++;
  }
  assert.ok(checked >= 30, `only ${checked} fixtures round-tripped`);
});

test('writer: hand-written expected export for quotes, escapes, anonymous sections and lists', () => {
  const doc = parsed(
    [
      `config globals`,
      `\toption name "it's"`,
      `\toption path '/a b/c'`,
      `config link 'wan' # trailing comment`,
      `\tlist peer one`,
      `\tlist peer 'two'\\''s'`,
      `\tlist peer ''`,
      `\toption esc "back\\\\slash \\"dq\\""`,
      '',
    ].join('\n'),
  );
  assert.equal(
    writeUci(doc),
    [
      'package wanbond',
      '',
      'config globals',
      `\toption name 'it'\\''s'`,
      `\toption path '/a b/c'`,
      '',
      `config link 'wan'`,
      `\tlist peer 'one'`,
      `\tlist peer 'two'\\''s'`,
      `\tlist peer ''`,
      `\toption esc 'back\\slash "dq"'`,
      '',
      '',
    ].join('\n'),
  );
  assert.equal(doc.sections[0]!.name, 'cfg013b09'); // as `uci -X show` names it
});

test('parser keeps line numbers of sections, options and every list item', () => {
  const doc = parsed(`# header\nconfig link 'wan'\n\toption interface wan\n\n\tlist x a\n\tlist x b\nconfig link 'wan'\n\toption interface wan2\n`);
  const s = doc.sections[0]!;
  assert.equal(s.line, 2);
  assert.deepEqual(s.openedAt, [2, 7]);
  assert.deepEqual(s.options[0], { kind: 'option', name: 'interface', value: 'wan2', line: 8, replaced: [3] });
  assert.deepEqual(s.options[1], { kind: 'list', name: 'x', values: ['a', 'b'], lines: [5, 6] });
});

test('package name: the file name, as uci load uses it, else the package statement', () => {
  assert.equal(parsed('package other\nconfig a b\n', '/etc/config/wanbond').package, 'wanbond');
  assert.equal(parsed('package other\nconfig a b\n', 'fixture.conf').package, 'other');
  assert.equal(parsed('config a b\n', 'fixture.conf').package, 'wanbond');
});

test('every syntax error in a file is reported, each with its line', () => {
  const r = parseUci(`config a 'b'\n\tjunk\n\toption ok 1\n\toption bad-name 2\nconfig t 'x-y'\n`, 'f');
  assert.equal(r.ok, false);
  if (r.ok) return;
  assert.deepEqual(r.errors.map((e) => e.line), [2, 4, 5]);
});

test('a NUL byte is an error, not a silently truncated value', () => {
  const r = parseUci(`config a 'b'\n\toption x 'a\0b'\n`, 'f');
  assert.equal(r.ok, false);
  if (!r.ok) assert.equal(r.errors[0]!.line, 2);
});

test('a byte order mark is refused, as uci refuses it, with a message that says so', () => {
  const r = parseUci('\uFEFFconfig globals g\n', 'f');
  assert.equal(r.ok, false);
  if (!r.ok) assert.match(r.errors[0]!.message, /byte order mark/);
});
