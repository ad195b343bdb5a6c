// Reading /etc/config/wanbond: text -> UCI document -> checked, typed Config with defaults,
// or every problem found, each naming file, line, section and option.

import { open } from 'node:fs/promises';
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

/** Larger than any real config: refuse rather than read a wrong file (a log, a device) whole. */
export const MAX_CONFIG_BYTES = 1024 * 1024;

export async function loadConfigFile(path: string): Promise<LoadResult> {
  const unreadable = (why: string): LoadResult => ({ ok: false, errors: [{ file: path, line: 0, message: `cannot read the config: ${why}` }] });
  let text: string;
  try {
    const handle = await open(path, 'r');
    try {
      const st = await handle.stat();
      if (st.isDirectory()) return unreadable('is a directory');
      if (!st.isFile()) return unreadable('not a regular file');
      if (st.size > MAX_CONFIG_BYTES) return unreadable(`${st.size} bytes, over the ${MAX_CONFIG_BYTES}-byte limit`);
      text = await handle.readFile('utf8');
    } finally {
      await handle.close();
    }
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    return unreadable(code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : code === 'EISDIR' ? 'is a directory' : (e as Error).message);
  }
  return loadConfigText(text, path);
}
