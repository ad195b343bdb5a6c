// TEST DOUBLE of OpenWrt's `uci` command line tool (libuci and uci cannot be installed here: no
// Debian package). It follows openwrt/uci's cli.c, list.c and delta.c for the subcommands
// wanbond's scripts use: get, set, add, add_list, delete, commit, export, batch; the options
// -q (no error messages), -c (config dir), -t (save dir). Config files are read with wanbond's
// own parseUci (which follows file.c) and written with writeUci, as `uci commit` writes them
// (export without the `package` line). Uncommitted changes live in the save dir as uci's delta
// lines (`+pkg.cfg…='type'`, `pkg.sec.opt='v'`, `|pkg.sec.list='v'`, `-pkg.sec[.opt]`) and are
// replayed on every load, so that, as with the real tool, each command (each line of a batch
// too) loads the package afresh and `@type[-1]` after `add` finds the new section.
// Not modelled: rename, reorder, revert, changes, show, import, -m/-n/-N/-p/-P/-d/-f/-X.
// Defaults for -c and -t come from UCI_TEST_CONFDIR and UCI_TEST_SAVEDIR (test-only knobs).
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync, appendFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseUci } from '../../../src/config/uci-parse.ts';
import { writeUci, uciEscape } from '../../../src/config/uci-write.ts';
import { anonymousSectionName, isUciName, isUciType, type UciDocument, type UciSection } from '../../../src/config/uci-document.ts';
import { addListValue, deleteOption, removeSection, setOption } from '../../../src/config/edit.ts';

class UciError extends Error {}
const NOT_FOUND = 'Entry not found';
const INVALID = 'Invalid argument';
const PARSE = 'Parse error';

let quiet = false;
let confdir = process.env['UCI_TEST_CONFDIR'] ?? '/etc/config';
let savedir = process.env['UCI_TEST_SAVEDIR'] ?? '/tmp/.uci';

/** uci_parse_argument: whitespace-separated words; '…' literal, "…" and bare words take \x; # ends the line. */
export function splitArgs(line: string): string[] {
  const out: string[] = [];
  let i = 0;
  while (i < line.length) {
    while (i < line.length && /\s/.test(line[i]!)) i++;
    if (i >= line.length || line[i] === '#') break;
    let word = '';
    while (i < line.length && !/\s/.test(line[i]!)) {
      const c = line[i]!;
      if (c === "'") {
        const end = line.indexOf("'", i + 1);
        if (end < 0) throw new UciError(PARSE);
        word += line.slice(i + 1, end);
        i = end + 1;
      } else if (c === '"') {
        i++;
        while (i < line.length && line[i] !== '"') {
          if (line[i] === '\\' && i + 1 < line.length) i++;
          word += line[i++];
        }
        if (i >= line.length) throw new UciError(PARSE);
        i++;
      } else if (c === '\\' && i + 1 < line.length) {
        word += line[i + 1];
        i += 2;
      } else if (c === '#') {
        i = line.length;
      } else {
        word += c;
        i++;
      }
    }
    out.push(word);
  }
  return out;
}

interface Ptr {
  package: string;
  section?: string;
  option?: string;
  value?: string;
  extended: boolean;
}

/** uci_parse_ptr: pkg[.section[.option]][=value]; names validated unless the section is @type[i]. */
function parsePtr(str: string): Ptr {
  const eq = str.indexOf('=');
  const value = eq >= 0 ? str.slice(eq + 1) : undefined;
  const parts = (eq >= 0 ? str.slice(0, eq) : str).split('.');
  if (parts.length > 3 || parts.some((p) => p === '')) throw new UciError(INVALID);
  const [pkg, section, option] = parts as [string, string?, string?];
  const extended = !!section?.startsWith('@');
  if (!isUciName(pkg, true) || (section !== undefined && !extended && !isUciName(section)) || (option !== undefined && !isUciName(option))) {
    throw new UciError(INVALID);
  }
  return { package: pkg, extended, ...(section !== undefined ? { section } : {}), ...(option !== undefined ? { option } : {}), ...(value !== undefined ? { value } : {}) };
}

const deltaFile = (pkg: string) => join(savedir, pkg);

function addAnonymous(doc: UciDocument, type: string, name?: string): UciSection {
  doc.sectionCount += 1;
  const s: UciSection = { type, name: name ?? anonymousSectionName(doc.sectionCount, type), anonymous: true, line: 0, openedAt: [0], options: [] };
  doc.sections.push(s);
  return s;
}

/** uci_set without delta tracking: new option, new named section, changed option or section type. */
function applySet(doc: UciDocument, section: string, option: string | undefined, value: string): void {
  const s = doc.sections.find((x) => x.name === section);
  if (option === undefined) {
    if (!isUciType(value) && value !== '') throw new UciError(INVALID);
    if (value === '') {
      if (s) removeSection(doc, section);
      return;
    }
    if (s) s.type = value;
    else {
      doc.sectionCount += 1;
      doc.sections.push({ type: value, name: section, anonymous: false, line: 0, openedAt: [0], options: [] });
    }
    return;
  }
  if (!s) throw new UciError(INVALID);
  setOption(doc, section, option, value);
}

/** uci_load: the committed file, then the saved delta replayed (delta.c uci_parse_delta_line). */
function load(pkg: string): UciDocument {
  const file = join(confdir, pkg);
  if (!existsSync(file)) throw new UciError(NOT_FOUND);
  const parsed = parseUci(readFileSync(file, 'utf8'), file);
  if (!parsed.ok) throw new UciError(PARSE);
  const doc = parsed.doc;
  doc.package = pkg;
  if (!existsSync(deltaFile(pkg))) return doc;
  for (const line of readFileSync(deltaFile(pkg), 'utf8').split('\n')) {
    const [arg] = splitArgs(line);
    if (!arg) continue;
    const cmd = '+-|~'.includes(arg[0]!) ? arg[0]! : '';
    const p = parsePtr(cmd ? arg.slice(1) : arg);
    if (p.package !== pkg || !p.section || p.extended) throw new UciError(PARSE);
    if (cmd === '+') {
      const s = doc.sections.find((x) => x.name === p.section);
      if (s) s.type = p.value!;
      else addAnonymous(doc, p.value!, p.section);
    } else if (cmd === '-') {
      if (p.option) deleteOption(doc, p.section, p.option);
      else removeSection(doc, p.section);
    } else if (cmd === '|') addListValue(doc, p.section, p.option!, p.value!);
    else if (cmd === '') applySet(doc, p.section, p.option, p.value!);
  }
  return doc;
}

/** uci_save: append one delta line (the section by its real name, as uci_expand_ptr leaves it). */
function save(prefix: string, pkg: string, section: string, option: string | undefined, value: string | undefined): void {
  mkdirSync(savedir, { recursive: true });
  const v = value === undefined ? '' : `='${uciEscape(value)}'`;
  appendFileSync(deltaFile(pkg), `${prefix}${pkg}.${section}${option ? `.${option}` : ''}${v}\n`);
}

/** uci_lookup_ext_section: @type[idx], negative from the end; @[idx] any type. */
function lookupSection(doc: UciDocument, p: Ptr): UciSection | undefined {
  if (!p.section) return undefined;
  if (!p.extended) return doc.sections.find((s) => s.name === p.section);
  const m = /^@([^[\]]*)\[(-?\d+)\]$/.exec(p.section);
  if (!m || (m[1] && !isUciType(m[1]))) throw new UciError(INVALID);
  const of = doc.sections.filter((s) => !m[1] || s.type === m[1]);
  let idx = Number(m[2]);
  if (idx < 0) idx += of.length;
  return of[idx];
}

function showValue(s: UciSection, option: string): string | undefined {
  const o = s.options.find((x) => x.name === option);
  if (!o) return undefined;
  if (o.kind === 'option') return o.value;
  return o.values.map((v) => (/[ \t\r\n]/.test(v) ? `'${uciEscape(v)}'` : v)).join(' ');
}

function sectionCmd(cmd: string, args: string[], out: string[]): void {
  if (args.length !== 1) throw new UciError('usage');
  const p = parsePtr(args[0]!);
  const doc = load(p.package);
  const s = lookupSection(doc, p);
  const real = s?.name ?? p.section;
  if (p.value !== undefined && cmd === 'get') throw new UciError(INVALID);
  switch (cmd) {
    case 'get': {
      if (!p.section || !s) throw new UciError(NOT_FOUND);
      if (p.option === undefined) {
        out.push(`${s.type}\n`);
        return;
      }
      const v = showValue(s, p.option);
      if (v === undefined) throw new UciError(NOT_FOUND);
      out.push(`${v}\n`);
      return;
    }
    case 'set':
      if (p.value === undefined || !real || (p.option !== undefined && !s) || (p.extended && !s)) throw new UciError(INVALID);
      if (p.value === '') {
        if (p.option !== undefined ? s && !s.options.some((o) => o.name === p.option) : !s) return; // nothing to delete
        save('-', p.package, real, p.option, undefined);
        return;
      }
      applySet(doc, real, p.option, p.value);
      save('', p.package, real, p.option, p.value);
      return;
    case 'add_list':
      if (p.value === undefined || !s || p.option === undefined) throw new UciError(INVALID);
      save('|', p.package, real!, p.option, p.value);
      return;
    case 'delete':
      if (!s || (p.option !== undefined && !s.options.some((o) => o.name === p.option))) throw new UciError(NOT_FOUND);
      save('-', p.package, real!, p.option, undefined);
      return;
  }
}

function run(argv: string[], out: string[], inBatch: boolean): number {
  const [cmd, ...args] = argv;
  try {
    switch (cmd) {
      case 'get':
      case 'set':
      case 'add_list':
        sectionCmd(cmd, args, out);
        return 0;
      case 'del':
      case 'delete':
        sectionCmd('delete', args, out);
        return 0;
      case 'add': {
        if (args.length !== 2) throw new UciError('usage');
        const [pkg, type] = args as [string, string];
        const doc = load(pkg);
        if (!isUciType(type)) throw new UciError(INVALID);
        const s = addAnonymous(doc, type);
        save('+', pkg, s.name, undefined, type);
        out.push(`${s.name}\n`);
        return 0;
      }
      case 'commit':
      case 'export': {
        if (args.length !== 1) throw new UciError('usage'); // no argument = every package: not modelled
        const pkg = args[0]!;
        const doc = load(pkg);
        const text = writeUci(doc);
        if (cmd === 'export') out.push(text);
        else {
          writeFileSync(join(confdir, pkg), text.slice(text.indexOf('\n') + 1));
          rmSync(deltaFile(pkg), { force: true });
        }
        return 0;
      }
      case 'batch':
        if (inBatch) throw new UciError('usage');
        for (const line of readFileSync(0, 'utf8').split('\n')) {
          let words: string[];
          try {
            words = splitArgs(line);
          } catch (e) {
            if (!quiet) process.stderr.write(`uci: ${(e as Error).message}\n`);
            continue;
          }
          if (!words.length) continue;
          if (words[0]!.toLowerCase() === 'exit') break;
          if (run(words, out, true) === 255) process.stderr.write('Unknown command\n');
        }
        return 0;
      default:
        return 255;
    }
  } catch (e) {
    if (!(e instanceof UciError)) throw e;
    if (e.message === 'usage') return 255;
    if (!quiet) process.stderr.write(`uci: ${e.message}\n`);
    return 1;
  }
}

function main(argv: string[]): number {
  let i = 0;
  for (; i < argv.length && argv[i]!.startsWith('-'); i++) {
    const o = argv[i]!;
    if (o === '-q') quiet = true;
    else if (o === '-c' || o === '-t') {
      const v = argv[++i];
      if (!v) return 1;
      if (o === '-c') confdir = v;
      else savedir = v;
    } else {
      process.stderr.write(`uci test double: option ${o} not modelled\n`);
      return 1;
    }
  }
  if (i >= argv.length) return 0; // uci prints its usage and exits 0
  const out: string[] = [];
  const code = run(argv.slice(i), out, false);
  process.stdout.write(out.join(''));
  if (code === 255) process.stderr.write('uci: usage (test double)\n');
  return code;
}

process.exitCode = main(process.argv.slice(2));
