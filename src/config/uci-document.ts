// The in-memory form of one UCI file, as libuci holds it after loading: sections in order,
// each with its options in order; plus the line numbers the validator needs for its messages.

export interface UciOption {
  kind: 'option';
  name: string;
  value: string;
  /** Line of the statement that set the current value (0 = not from a file). */
  line: number;
  /** Lines of earlier statements whose value this one replaced (uci keeps only the last). */
  replaced?: number[];
}

export interface UciList {
  kind: 'list';
  name: string;
  values: string[];
  /** Line of each item, parallel to `values`. */
  lines: number[];
}

export type UciEntry = UciOption | UciList;

export interface UciSection {
  type: string;
  /** The real name; for anonymous sections the generated `cfgXXYYYY` name. */
  name: string;
  anonymous: boolean;
  /** Line of the first `config` statement (0 = not from a file). */
  line: number;
  /** Lines of every `config` statement that opened this section (reopening merges, as in uci). */
  openedAt: number[];
  options: UciEntry[];
}

export interface UciDocument {
  /** Package name `uci export` prints. */
  package: string;
  sections: UciSection[];
  /** libuci's per-package section counter (numbers anonymous section names). */
  sectionCount: number;
}

export function entryLine(e: UciEntry): number {
  return e.kind === 'option' ? e.line : (e.lines[0] ?? 0);
}

export function findSection(doc: UciDocument, name: string): UciSection | undefined {
  return doc.sections.find((s) => s.name === name);
}

export function findEntry(section: UciSection, name: string): UciEntry | undefined {
  return section.options.find((o) => o.name === name);
}

/** How a user refers to a section: its name, or `@type[index]` (uci show's form) if anonymous. */
export function sectionLabel(doc: UciDocument, section: UciSection): string {
  if (!section.anonymous) return section.name;
  const index = doc.sections.filter((s) => s.type === section.type).indexOf(section);
  return `@${section.type}[${index}]`;
}

/** libuci's name for an anonymous section: counter and a DJB hash of its type (list.c). */
export function anonymousSectionName(count: number, type: string): string {
  let hash = 5381;
  for (let i = 0; i < type.length; i++) hash = (hash * 33 + type.charCodeAt(i)) >>> 0;
  hash &= 0x7fffffff;
  return `cfg${count.toString(16).padStart(2, '0')}${(hash % 65536).toString(16).padStart(4, '0')}`;
}

/** True for valid section/option names ([A-Za-z0-9_]+); package names also allow '-'. */
export function isUciName(s: string, pkg = false): boolean {
  return pkg ? /^[A-Za-z0-9_-]+$/.test(s) : /^[A-Za-z0-9_]+$/.test(s);
}

/** Section types: printable ASCII 33..126, non-empty. */
export function isUciType(s: string): boolean {
  return /^[\x21-\x7e]+$/.test(s);
}
