// One problem found in a config file. `line` 0 means "the file as a whole" (missing, unreadable).

export interface ConfigError {
  file: string;
  line: number;
  /** The section as the user knows it: its name, or `@type[index]` for an anonymous one. */
  section?: string;
  option?: string;
  message: string;
}

/** `PATH:LINE: section.option: what is wrong` (parts that are unknown are left out). */
export function formatConfigError(e: ConfigError): string {
  const where = e.line > 0 ? `${e.file}:${e.line}` : e.file;
  const what = e.section !== undefined ? (e.option !== undefined ? `${e.section}.${e.option}` : e.section) : undefined;
  return what !== undefined ? `${where}: ${what}: ${e.message}` : `${where}: ${e.message}`;
}

/** Errors in file order, so a user fixes them top to bottom. */
export function sortErrors(errors: ConfigError[]): ConfigError[] {
  return errors
    .map((e, i) => ({ e, i }))
    .sort((a, b) => (a.e.line || Infinity) - (b.e.line || Infinity) || a.i - b.i)
    .map(({ e }) => e);
}

/** A value quoted for a message, control characters made visible. */
export function quote(s: string): string {
  const shown = s.length > 60 ? `${s.slice(0, 57)}...` : s;
  return `'${shown.replace(/[\x00-\x1f\x7f]/g, (c) => (c === '\n' ? '\\n' : c === '\t' ? '\\t' : `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`))}'`;
}
