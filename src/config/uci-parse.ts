// A UCI file parser that behaves as libuci's loader does (openwrt/uci file.c, util.c, list.c),
// quirks included, so that what wanbond reads is what `uci` on the router reads. It works on a
// line buffer the way libuci does: tokens are compacted in place, a `;` that directly follows
// an unquoted word is overwritten by that word's terminator (so `option a b; option c d`
// drops the second statement, as uci does), `#` cuts the line, a backslash at the end of a
// line or an open quote pulls in the next line.
//
// Differences, on purpose: every parse error is collected (libuci stops at the first one in
// strict mode; we resume at the next line as its non-strict mode does, then still fail), an
// unterminated quote is reported at the line where it opened, and a NUL byte is an error.

import { basename } from 'node:path';
import { quote, type ConfigError } from './errors.ts';
import {
  anonymousSectionName,
  isUciName,
  isUciType,
  type UciDocument,
  type UciSection,
} from './uci-document.ts';

export type ParseResult = { ok: true; doc: UciDocument } | { ok: false; errors: ConfigError[] };

class UciSyntaxError extends Error {
  constructor(
    message: string,
    readonly line: number,
  ) {
    super(message);
  }
}

const NUL = '\0';

function isSpace(c: string): boolean {
  return c === ' ' || c === '\t' || c === '\n' || c === '\v' || c === '\f' || c === '\r';
}

/** Where a token is being written (libuci compacts tokens in place, behind the read position). */
interface Cursor {
  at: number;
}

class Parser {
  private readonly lines: string[];
  private nextLine = 0;
  /** Physical lines read so far: the line the parser is on. */
  private line = 0;
  private buf: string[] = [];
  /** End of the data the last successful line read put in the buffer. */
  private filled = 0;
  private pos = 0;

  readonly doc: UciDocument;
  private section: UciSection | undefined;
  packageStatement: string | undefined;

  constructor(text: string, pkg: string) {
    this.lines = text.match(/[^\n]*\n|[^\n]+$/g) ?? [];
    this.doc = { package: pkg, sections: [], sectionCount: 0 };
  }

  run(errors: { line: number; message: string }[]): void {
    while (this.nextLine < this.lines.length) {
      this.pos = 0;
      try {
        this.getLine(0);
        if (this.char(0) !== NUL) this.parseLine();
      } catch (e) {
        if (!(e instanceof UciSyntaxError)) throw e;
        errors.push({ line: e.line, message: e.message });
      }
    }
  }

  private char(i: number): string {
    return i < this.buf.length ? (this.buf[i] as string) : NUL;
  }
  private cur(): string {
    return this.char(this.pos);
  }
  private put(i: number, c: string): void {
    while (this.buf.length < i) this.buf.push(NUL);
    this.buf[i] = c;
  }
  /** The NUL-terminated string at `i`. */
  private str(i: number): string {
    let s = '';
    for (let j = i; j < this.buf.length && this.buf[j] !== NUL; j++) s += this.buf[j];
    return s;
  }
  private fail(message: string, line = this.line): never {
    throw new UciSyntaxError(message, line);
  }

  /** Reads the next physical line into the buffer at `offset` (uci_getln). */
  private getLine(offset: number): void {
    if (this.buf.length > offset) this.buf.length = offset;
    const text = this.lines[this.nextLine];
    if (text === undefined) return;
    this.nextLine++;
    this.line++;
    if (text.includes(NUL)) this.fail('NUL byte in file');
    while (this.buf.length < offset) this.buf.push(NUL);
    for (const c of text) this.buf.push(c);
    this.filled = this.buf.length;
  }

  /** After a backslash: true if the next character is taken literally, false if the line continued. */
  private backslash(): boolean {
    this.pos += 1;
    const c = this.cur();
    if (c === NUL || c === '\n' || (c === '\r' && this.char(this.pos + 1) === '\n' && this.char(this.pos + 2) === NUL)) {
      this.getLine(this.pos);
      return false;
    }
    return true;
  }

  private skipSpace(): void {
    while (this.cur() !== NUL && isSpace(this.cur())) this.pos += 1;
  }

  private copy(target: Cursor): void {
    this.put(target.at, this.cur());
    target.at += 1;
    this.pos += 1;
  }

  private quoted(target: Cursor, mark: '"' | "'"): void {
    const opened = this.line;
    this.pos += 1;
    for (;;) {
      const c = this.cur();
      if (c === mark) {
        this.pos += 1;
        return;
      }
      if (c === NUL) {
        this.getLine(this.pos);
        if (this.cur() === NUL) this.fail(`EOF with unterminated ${mark} (the quote opened on this line is never closed)`, opened);
        continue;
      }
      if (c === '\\' && mark === '"' && !this.backslash()) continue;
      this.copy(target);
    }
  }

  /** One word: quoted and unquoted pieces joined, up to whitespace, `;` or `#` (parse_str). */
  private word(target: Cursor): void {
    let next = true;
    scan: do {
      switch (this.cur()) {
        case "'":
          this.quoted(target, "'");
          break;
        case '"':
          this.quoted(target, '"');
          break;
        case '#':
          this.put(this.pos, NUL);
          break scan;
        case NUL:
          break scan;
        case ';':
          next = false;
          break scan;
        case '\\':
          if (!this.backslash()) continue;
          this.copy(target);
          break;
        default:
          this.copy(target);
      }
    } while (this.cur() !== NUL && !isSpace(this.cur()));
    if (this.cur() !== NUL && next) this.pos += 1;
    this.put(target.at, NUL);
  }

  /** The next argument of a statement (next_arg). */
  private arg(required: boolean, name: false | 'name' | 'package'): string {
    this.skipSpace();
    const start = this.pos;
    if (this.cur() === ';') {
      this.put(this.pos, NUL);
      this.pos += 1;
    } else {
      this.word({ at: start });
    }
    const s = this.str(start);
    if (s === '') {
      if (required) this.fail('insufficient arguments');
      return s;
    }
    if (name && !isUciName(s, name === 'package')) {
      const allowed = name === 'package' ? "letters, digits, '_' and '-'" : "letters, digits and '_'";
      this.fail(`invalid character in name field: ${quote(s)} (names may only use ${allowed})`);
    }
    return s;
  }

  private endOfStatement(): void {
    this.skipSpace();
    if (this.arg(false, false) !== '') this.fail('too many arguments');
  }

  /** strtok(cur, " \t"): the command word, terminated in place. */
  private commandWord(): string | undefined {
    let i = this.pos;
    while (this.char(i) === ' ' || this.char(i) === '\t') i++;
    if (this.char(i) === NUL) return undefined;
    const start = i;
    while (this.char(i) !== NUL && this.char(i) !== ' ' && this.char(i) !== '\t') i++;
    const w = this.buf.slice(start, i).join('');
    if (this.char(i) !== NUL) this.put(i, NUL);
    return w;
  }

  /** Steps over the command word and its terminator; false if the buffer ends first. */
  private skipCommandWord(): boolean {
    const add = this.str(this.pos).length + 1;
    if (this.pos + add > this.filled) return false;
    this.pos += add;
    return true;
  }

  private parseLine(): void {
    this.skipSpace();
    for (;;) {
      const w = this.commandWord();
      if (w === undefined || w[0] === '#') return;
      const rest = w.slice(1);
      const line = this.line;
      if (w[0] === 'p' && (rest === '' || rest === 'ackage')) this.parsePackage();
      else if (w[0] === 'c' && (rest === '' || rest === 'onfig')) this.parseConfig(line);
      else if (w[0] === 'o' && (rest === '' || rest === 'ption')) this.parseOption(false, line);
      else if (w[0] === 'l' && (rest === '' || rest === 'ist')) this.parseOption(true, line);
      else if (/^(p|package|c|config|o|option|l|list)\s+$/.test(w)) this.fail(`invalid command: ${quote(w.trim())} needs arguments`);
      else if (w.startsWith('\uFEFF') && line === 1) this.fail('invalid command: the file starts with a byte order mark (uci cannot read it; save the file as UTF-8 without BOM)');
      else this.fail(`invalid command ${quote(w)} (expected config, option, list or package)`);
    }
  }

  private parsePackage(): void {
    if (!this.skipCommandWord()) this.fail('package without name');
    const name = this.arg(true, 'package');
    this.endOfStatement();
    // Loading a file by name (uci_load) checks a `package` statement but keeps the file's name.
    this.packageStatement ??= name;
  }

  private parseConfig(line: number): void {
    if (!this.skipCommandWord()) this.fail('config without name');
    const type = this.arg(true, false);
    if (!isUciType(type)) this.fail(`invalid character in type field: ${quote(type)}`);
    const name = this.arg(false, 'name');
    this.endOfStatement();
    const doc = this.doc;
    if (name === '') {
      doc.sectionCount += 1;
      this.section = {
        type,
        name: anonymousSectionName(doc.sectionCount, type),
        anonymous: true,
        line,
        openedAt: [line],
        options: [],
      };
      doc.sections.push(this.section);
      return;
    }
    const existing = doc.sections.find((s) => s.name === name);
    if (existing) {
      if (existing.type !== type) this.fail('section of different type overwrites prior section with same name');
      existing.openedAt.push(line);
      this.section = existing;
      return;
    }
    doc.sectionCount += 1;
    this.section = { type, name, anonymous: false, line, openedAt: [line], options: [] };
    doc.sections.push(this.section);
  }

  private parseOption(list: boolean, line: number): void {
    const section = this.section;
    if (!section) this.fail('option/list command found before the first section');
    if (!this.skipCommandWord()) this.fail('option without name');
    const name = this.arg(true, 'name');
    const value = this.arg(false, false);
    this.endOfStatement();
    const index = section.options.findIndex((o) => o.name === name);
    const old = section.options[index];
    if (list) {
      if (!old) section.options.push({ kind: 'list', name, values: [value], lines: [line] });
      else if (old.kind === 'list') {
        old.values.push(value);
        old.lines.push(line);
      } else {
        section.options[index] = { kind: 'list', name, values: [old.value, value], lines: [old.line, line] };
      }
      return;
    }
    // uci_set with an empty value on an option it has not looked up is a no-op.
    if (value === '') return;
    if (old) {
      const replaced = old.kind === 'option' ? [...(old.replaced ?? []), old.line] : [...old.lines];
      section.options[index] = { kind: 'option', name, value, line, replaced };
    }
    else section.options.push({ kind: 'option', name, value, line });
  }
}

/** The package name `uci export` would print for this file. */
function packageName(file: string, statement: string | undefined): string {
  const base = basename(file);
  if (isUciName(base, true)) return base;
  return statement ?? 'wanbond';
}

export function parseUci(text: string, file: string): ParseResult {
  const parser = new Parser(text, 'wanbond');
  const found: { line: number; message: string }[] = [];
  parser.run(found);
  if (found.length > 0) {
    return { ok: false, errors: found.map((e) => ({ file, line: e.line, message: `syntax error: ${e.message}` })) };
  }
  parser.doc.package = packageName(file, parser.packageStatement);
  return { ok: true, doc: parser.doc };
}
