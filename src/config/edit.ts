// Small edits to a UciDocument, with libuci's semantics (uci set / add_list / del_list /
// delete), for code that writes the config (pairing) through writeUci. They change the
// document in place; entries they create carry line 0 (not from a file).

import { anonymousSectionName, isUciName, isUciType, type UciDocument, type UciSection } from './uci-document.ts';

function mustName(name: string, what: string): void {
  if (!isUciName(name)) throw new Error(`invalid ${what} name '${name}' (letters, digits and '_' only)`);
}

function section(doc: UciDocument, name: string): UciSection {
  const s = doc.sections.find((x) => x.name === name);
  if (!s) throw new Error(`no section '${name}'`);
  return s;
}

export function emptyDocument(pkg = 'wanbond'): UciDocument {
  return { package: pkg, sections: [], sectionCount: 0 };
}

/** Adds a section at the end; a name that exists with the same type returns that section (uci set). */
export function addSection(doc: UciDocument, type: string, name?: string): UciSection {
  if (!isUciType(type)) throw new Error(`invalid section type '${type}'`);
  if (name !== undefined) {
    mustName(name, 'section');
    const existing = doc.sections.find((s) => s.name === name);
    if (existing) {
      if (existing.type !== type) throw new Error(`section '${name}' exists with type '${existing.type}'`);
      return existing;
    }
  }
  doc.sectionCount += 1;
  const s: UciSection = {
    type,
    name: name ?? anonymousSectionName(doc.sectionCount, type),
    anonymous: name === undefined,
    line: 0,
    openedAt: [0],
    options: [],
  };
  doc.sections.push(s);
  return s;
}

/** Removes a section; false if there was none. */
export function removeSection(doc: UciDocument, name: string): boolean {
  const i = doc.sections.findIndex((s) => s.name === name);
  if (i < 0) return false;
  doc.sections.splice(i, 1);
  return true;
}

/** Sets an option, replacing a value or a list in place; an empty value deletes it (uci set). */
export function setOption(doc: UciDocument, sectionName: string, name: string, value: string): void {
  mustName(name, 'option');
  const s = section(doc, sectionName);
  if (value === '') {
    deleteOption(doc, sectionName, name);
    return;
  }
  const i = s.options.findIndex((o) => o.name === name);
  const entry = { kind: 'option' as const, name, value, line: 0 };
  if (i >= 0) s.options[i] = entry;
  else s.options.push(entry);
}

/** Deletes an option or a whole list; false if it was not set. */
export function deleteOption(doc: UciDocument, sectionName: string, name: string): boolean {
  const s = section(doc, sectionName);
  const i = s.options.findIndex((o) => o.name === name);
  if (i < 0) return false;
  s.options.splice(i, 1);
  return true;
}

/** Appends to a list; an option of that name becomes a list with its value first (uci add_list). */
export function addListValue(doc: UciDocument, sectionName: string, name: string, value: string): void {
  mustName(name, 'option');
  const s = section(doc, sectionName);
  const i = s.options.findIndex((o) => o.name === name);
  const old = s.options[i];
  if (!old) s.options.push({ kind: 'list', name, values: [value], lines: [0] });
  else if (old.kind === 'list') {
    old.values.push(value);
    old.lines.push(0);
  } else s.options[i] = { kind: 'list', name, values: [old.value, value], lines: [old.line, 0] };
}

/** Removes every item equal to `value` from a list (uci del_list); the list stays even if empty. */
export function removeListValue(doc: UciDocument, sectionName: string, name: string, value: string): number {
  const s = section(doc, sectionName);
  const o = s.options.find((x) => x.name === name);
  if (!o || o.kind !== 'list') return 0;
  let removed = 0;
  for (let i = o.values.length - 1; i >= 0; i--) {
    if (o.values[i] === value) {
      o.values.splice(i, 1);
      o.lines.splice(i, 1);
      removed++;
    }
  }
  return removed;
}

/** Replaces a list with exactly `values` (in place if it exists); no values deletes it. */
export function setList(doc: UciDocument, sectionName: string, name: string, values: string[]): void {
  mustName(name, 'option');
  const s = section(doc, sectionName);
  const i = s.options.findIndex((o) => o.name === name);
  if (values.length === 0) {
    if (i >= 0) s.options.splice(i, 1);
    return;
  }
  const entry = { kind: 'list' as const, name, values: [...values], lines: values.map(() => 0) };
  if (i >= 0) s.options[i] = entry;
  else s.options.push(entry);
}
