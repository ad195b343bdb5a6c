// Read a UCI document for editing (a missing file is an empty one), check the edited document
// with the real loader before anything is written, and write it atomically.
import { existsSync, readFileSync, renameSync, writeFileSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { emptyDocument } from '../config/edit.ts';
import { formatConfigError, loadConfigText, validateDocument } from '../config/load.ts';
import type { Config } from '../config/types.ts';
import type { UciDocument } from '../config/uci-document.ts';
import { writeUci } from '../config/uci-write.ts';

export type Opened = { ok: true; doc: UciDocument; config?: Config } | { ok: false; errors: string[] };

export function openConfig(path: string): Opened {
  if (!existsSync(path)) return { ok: true, doc: emptyDocument() };
  const r = loadConfigText(readFileSync(path, 'utf8'), path);
  if (!r.ok) return { ok: false, errors: r.errors.map(formatConfigError) };
  return { ok: true, doc: r.doc, config: r.config };
}

/** Validates, then writes; returns the errors instead when the edited document is not valid. */
export function saveConfig(path: string, doc: UciDocument): { ok: true; config: Config } | { ok: false; errors: string[] } {
  const v = validateDocument(doc, path);
  if (!v.ok) return { ok: false, errors: v.errors.map(formatConfigError) };
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.wanbond-tmp`;
  writeFileSync(tmp, writeUci(doc), { mode: 0o600 });
  renameSync(tmp, path);
  return { ok: true, config: v.config };
}

/** The name of the first section of `type`, adding an anonymous one when there is none. */
export function sectionOfType(doc: UciDocument, type: string, add: (d: UciDocument, t: string) => { name: string }): string {
  return (doc.sections.find((s) => s.type === type) ?? add(doc, type)).name;
}
