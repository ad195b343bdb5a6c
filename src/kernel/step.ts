// One kernel command: an argv array (never a shell string), optional stdin, and why it runs.
export interface Step {
  argv: string[];
  /** Text fed on stdin (nft scripts). Never key material. */
  input?: string;
  why: string;
  /** After running, wait for this path to appear (wireguard-go's control socket). */
  waitFor?: string;
  /** Then run this until it succeeds (wireguard-go answering: it has finished setting itself up). */
  ready?: string[];
}

const quote = (a: string) => (/^[A-Za-z0-9_@%+=:,./\-[\]]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`);

/** The step as a shell-like line, for `apply --dry-run` and logs. */
export function formatStep(s: Step): string {
  const line = s.argv.map(quote).join(' ');
  return s.input ? `${line} <<'EOF'\n${s.input.trimEnd()}\nEOF` : line;
}
