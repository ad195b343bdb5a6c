// First pass over a parsed UCI document: every section type and option is checked against
// schema.ts and every value converted, collecting all problems. The result is one record per
// known section holding the values that passed, for semantics.ts to assemble and cross-check.

import type { ConfigError } from './errors.ts';
import { hint, SECTIONS } from './schema.ts';
import { entryLine, sectionLabel, type UciDocument, type UciSection } from './uci-document.ts';

export interface SectionRecord {
  section: UciSection;
  /** How messages name the section. */
  label: string;
  /** Values that passed validation; a list option holds an array of the items that passed. */
  values: Map<string, unknown>;
  /** Options the file sets, valid or not (so a bad value is not also reported as missing). */
  present: Set<string>;
}

export class Problems {
  readonly list: ConfigError[] = [];
  constructor(readonly file: string) {}
  add(line: number, message: string, section?: string, option?: string): void {
    this.list.push({
      file: this.file,
      line,
      ...(section !== undefined ? { section } : {}),
      ...(option !== undefined ? { option } : {}),
      message,
    });
  }
  at(rec: SectionRecord, option: string | undefined, message: string): void {
    this.add(option !== undefined ? lineOf(rec, option) : rec.section.line, message, rec.label, option);
  }
}

/** The line an option was set on, or its section's line when it is not set. */
export function lineOf(rec: SectionRecord, option: string): number {
  const e = rec.section.options.find((o) => o.name === option);
  return e ? entryLine(e) : rec.section.line;
}

/** mwan3's tracking options: wanbond has no equivalent to set, it probes inside each tunnel. */
const MWAN3_TRACKING = ['track_ip', 'track_method', 'reliability', 'count', 'timeout', 'size', 'max_ttl', 'check_quality', 'flush_conntrack', 'initial_state', 'family'];

/** ` (it belongs in 'config x')` when another section type has that option. */
function elsewhere(option: string): string {
  if (MWAN3_TRACKING.includes(option)) return ` (an mwan3 option: wanbond probes each link inside its own tunnel; thresholds are in 'config health')`;
  const owners = Object.entries(SECTIONS).filter(([, spec]) => spec.options[option]).map(([type]) => `'config ${type}'`);
  if (owners.length) return ` (it belongs in ${owners.join(' or ')})`;
  const all = [...new Set(Object.values(SECTIONS).flatMap((spec) => Object.keys(spec.options)))];
  const near = /'(\w+)'/.exec(hint(option, all))?.[1];
  if (near === undefined) return '';
  const where = Object.entries(SECTIONS).filter(([, spec]) => spec.options[near]).map(([type]) => `'config ${type}'`);
  return ` (did you mean '${near}', an option of ${where.join(' or ')}?)`;
}

export function readSections(doc: UciDocument, problems: Problems): Map<string, SectionRecord[]> {
  const byType = new Map<string, SectionRecord[]>();
  for (const section of doc.sections) {
    const label = sectionLabel(doc, section);
    const spec = SECTIONS[section.type];
    if (!spec) {
      const mwan3 = ['interface', 'member', 'policy', 'rule'].includes(section.type)
        ? ` (mwan3's '${section.type}' sections do not apply here: each WAN is a config link '<name>' with option interface)`
        : '';
      problems.add(section.line, `unknown section type '${section.type}'${hint(section.type, Object.keys(SECTIONS)) || mwan3}`, label);
      continue;
    }
    const rec: SectionRecord = { section, label, values: new Map(), present: new Set() };
    const same = byType.get(section.type) ?? [];
    if (spec.single && same.length > 0) {
      problems.add(section.line, `a second '${section.type}' section (the first is on line ${same[0]!.section.line}); keep one`, label);
      continue;
    }
    if (spec.named && section.anonymous) {
      problems.add(section.line, `a ${section.type} section needs a name: config ${section.type} '<name>'`, label);
      continue;
    }
    for (const again of section.openedAt.slice(1)) {
      problems.add(again,
        `a second section named '${section.name}' (the first is on line ${section.line}); uci would merge the two into one, so give each its own name`,
        label);
    }
    same.push(rec);
    byType.set(section.type, same);

    for (const entry of section.options) {
      const opt = spec.options[entry.name];
      if (!opt) {
        problems.add(entryLine(entry), `unknown option${hint(entry.name, Object.keys(spec.options)) || elsewhere(entry.name)}`, label, entry.name);
        continue;
      }
      rec.present.add(entry.name);
      if (opt.list) {
        const items = entry.kind === 'list' ? entry.values.map((value, i) => ({ value, line: entry.lines[i]! })) : [{ value: entry.value, line: entry.line }];
        const good: unknown[] = [];
        for (const item of items) {
          const r = opt.schema.safeParse(item.value);
          if (r.success) good.push(r.data);
          else problems.add(item.line, r.error.issues[0]?.message ?? 'invalid value', label, entry.name);
        }
        rec.values.set(entry.name, good);
        continue;
      }
      if (entry.kind === 'list') {
        problems.add(entryLine(entry), `takes one value: write 'option ${entry.name}', not 'list ${entry.name}'`, label, entry.name);
        continue;
      }
      if (entry.replaced?.length && section.openedAt.length === 1) {
        problems.add(entry.line, `set more than once (also on line ${entry.replaced.join(', ')}); uci keeps only the last value, so keep one`, label, entry.name);
      }
      const r = opt.schema.safeParse(entry.value);
      if (r.success) rec.values.set(entry.name, r.data);
      else problems.add(entry.line, r.error.issues[0]?.message ?? 'invalid value', label, entry.name);
    }
  }
  return byType;
}
