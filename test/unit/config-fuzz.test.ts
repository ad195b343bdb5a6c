// Property test: random and mutated config files never make the parser or the loader throw
// or hang; they return a result or ConfigErrors. What parses also survives write -> parse
// unchanged. Seeded, so a failure names the seed and case that reproduce it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseUci } from '../../src/config/uci-parse.ts';
import { writeUci } from '../../src/config/uci-write.ts';
import { loadConfigText } from '../../src/config/load.ts';
import type { ConfigError } from '../../src/config/errors.ts';
import type { UciDocument } from '../../src/config/uci-document.ts';
import { prng } from '../helpers/prng.ts';


const TOKENS = [
  'config ', 'c ', 'option ', 'o ', 'list ', 'l ', 'package ', 'p ', 'globals', 'link', 'site', 'health', 'mqtt',
  'concentrator', 'enabled', 'interface', 'peer', 'subnet', 'id', 'wan', "'", '"', '\\', '\\\n', ';', '#', ' ', '\t',
  '\n', '\n', '\r\n', '\r', '\v', '1', '0', '-', '-eth0', '/', ':', '10.0.0.0/24', '$(reboot)', '`id`', 'é', '\u{1F600}',
  '\0', '\x01', "'\\''", 'cfg01abcd', 'balance-rr', 'auto', '65536', '1e3', '0x10', ' '.repeat(40), 'x'.repeat(70),
];

const SEEDS = readdirSync('test/fixtures/config', { recursive: true, withFileTypes: true })
  .filter((d) => d.isFile() && /\.(conf|uci)$/.test(d.name))
  .map((d) => readFileSync(join(d.parentPath, d.name), 'utf8'));

function soup(rnd: () => number): string {
  let s = '';
  const n = Math.floor(rnd() * 60);
  for (let i = 0; i < n; i++) s += TOKENS[Math.floor(rnd() * TOKENS.length)];
  return s;
}

function mutate(rnd: () => number, text: string): string {
  let s = text;
  const edits = 1 + Math.floor(rnd() * 6);
  for (let i = 0; i < edits; i++) {
    const at = Math.floor(rnd() * (s.length + 1));
    const len = Math.floor(rnd() * 12);
    switch (Math.floor(rnd() * 6)) {
      case 0: s = s.slice(0, at) + s.slice(at + len); break; // delete
      case 1: s = s.slice(0, at) + TOKENS[Math.floor(rnd() * TOKENS.length)] + s.slice(at); break; // insert
      case 2: s = s.slice(0, at) + s.slice(at, at + len).repeat(2) + s.slice(at); break; // duplicate
      case 3: s = s.slice(0, at); break; // truncate
      case 4: { const lines = s.split('\n'); lines.splice(Math.floor(rnd() * lines.length), 0, lines[Math.floor(rnd() * lines.length)] ?? ''); s = lines.join('\n'); break; }
      default: s = s.slice(0, at) + String.fromCharCode(Math.floor(rnd() * 128)) + s.slice(at + 1); // replace
    }
  }
  return s;
}

function assertErrors(errors: ConfigError[], file: string, lines: number): void {
  assert.ok(errors.length > 0);
  for (const e of errors) {
    assert.equal(e.file, file);
    assert.ok(Number.isInteger(e.line) && e.line >= 1 && e.line <= lines, `line ${e.line} of ${lines}`);
    assert.equal(typeof e.message, 'string');
    assert.ok(e.message.length > 0);
    assert.ok(!/[\x00-\x1f]/.test(e.message), `message with a control character: ${JSON.stringify(e.message)}`);
  }
}

function content(doc: UciDocument): unknown {
  return doc.sections.map((s) => [s.type, s.name, s.anonymous, s.options.map((o) => (o.kind === 'option' ? [o.name, o.value] : [o.name, o.values]))]);
}

/** Types uci export prints bare, so those holding quote, escape, comment or separator characters do not survive export (in uci either). */
const PRINTS_BARE = (doc: UciDocument) => doc.sections.every((s) => !/['"\\#;]/.test(s.type));

test('random and mutated files: parse and load return a result or ConfigErrors, never throw; round trip holds', { timeout: 300_000 }, () => {
  const CASES = 4000;
  let parsedOk = 0;
  let loadedOk = 0;
  for (let n = 0; n < CASES; n++) {
    const rnd = prng(1000 + n);
    const text = n % 2 === 0 ? soup(rnd) : mutate(rnd, SEEDS[Math.floor(rnd() * SEEDS.length)]!);
    const lines = Math.max(1, text.split('\n').length);
    const where = `case ${n} (seed ${1000 + n}): ${JSON.stringify(text.slice(0, 200))}`;
    try {
      const p = parseUci(text, 'fuzz.conf');
      if (p.ok) {
        parsedOk++;
        if (PRINTS_BARE(p.doc)) {
          const again = parseUci(writeUci(p.doc), 'fuzz.conf');
          assert.ok(again.ok, 'export did not parse back');
          assert.deepEqual(content(again.doc), content(p.doc));
        }
      } else assertErrors(p.errors, 'fuzz.conf', lines);
      const l = loadConfigText(text, 'fuzz.conf');
      if (l.ok) {
        loadedOk++;
        assert.ok(l.config.globals && Array.isArray(l.config.links));
      } else assertErrors(l.errors, 'fuzz.conf', lines);
    } catch (e) {
      assert.fail(`${where}\n${e instanceof Error ? e.stack : String(e)}`);
    }
  }
  // The generator must reach both outcomes, or it tests nothing.
  assert.ok(parsedOk > CASES / 10, `only ${parsedOk} parsed`);
  assert.ok(loadedOk > CASES / 100, `only ${loadedOk} loaded`);
});

test('pathological inputs finish: a huge line, deep continuations, thousands of sections', { timeout: 120_000 }, () => {
  const inputs = [
    `config a 'b'\n\toption x '${'y'.repeat(200_000)}'\n`,
    `config a 'b'\n\toption x ${'y\\\n'.repeat(5_000)}\n`,
    `config a 'b'\n\toption x "${'\n'.repeat(5_000)}`,
    Array.from({ length: 3_000 }, (_, i) => `config link 'l${i}'\n\toption interface 'i${i}'\n`).join(''),
    `config a 'b'\n${';'.repeat(10_000)}\n`,
  ];
  for (const text of inputs) {
    const p = parseUci(text, 'f');
    assert.ok(p.ok || p.errors.length > 0);
    const l = loadConfigText(text, 'f');
    assert.ok(l.ok || l.errors.length > 0);
  }
});
