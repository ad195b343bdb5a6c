// Reading /etc/config/wanbond: text -> UCI document -> checked, typed Config with defaults,
// or every problem found, each naming file, line, section and option.

import { readFile } from 'node:fs/promises';
import { sortErrors, type ConfigError } from './errors.ts';
import { assemble } from './semantics.ts';
import { Problems, readSections } from './sections.ts';
import type { Config } from './types.ts';
import type { UciDocument } from './uci-document.ts';
import { parseUci } from './uci-parse.ts';

export { formatConfigError, type ConfigError } from './errors.ts';

export type LoadResult = { ok: true; config: Config; doc: UciDocument } | { ok: false; errors: ConfigError[] };

/** Checks an already parsed document (as pairing does before it writes one). */
export function validateDocument(doc: UciDocument, file: string): LoadResult {
  const problems = new Problems(file);
  const sections = readSections(doc, problems);
  const config = assemble(sections, problems);
  if (problems.list.length > 0) return { ok: false, errors: sortErrors(problems.list) };
  return { ok: true, config, doc };
}

export function loadConfigText(text: string, file: string): LoadResult {
  const parsed = parseUci(text, file);
  if (!parsed.ok) return parsed;
  return validateDocument(parsed.doc, file);
}

export async function loadConfigFile(path: string): Promise<LoadResult> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : code === 'EISDIR' ? 'is a directory' : (e as Error).message;
    return { ok: false, errors: [{ file: path, line: 0, message: `cannot read the config: ${why}` }] };
  }
  return loadConfigText(text, path);
}
