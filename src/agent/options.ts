// Small helpers the stack's commands share: `--config P`, flags, loading the config with its
// errors printed as file:line: section.option: message.
import { defaultConfigPath } from '../config/defaults.ts';
import { formatConfigError, loadConfigFile } from '../config/load.ts';
import type { Config } from '../config/types.ts';

export interface ParsedArgs {
  config: string;
  flags: Set<string>;
  values: Record<string, string>;
  rest: string[];
}

/**
 * `--config P`, `--name value` for names in `valued`, bare `--flag`s, and positional words. Without
 * --config: /etc/config/wanbond, or /etc/wanbond/wanbond where only that exists (a Debian
 * concentrator), as `check-config` does.
 */
export function parseArgs(args: string[], valued: string[] = [], defaultConfig: () => string = defaultConfigPath): ParsedArgs {
  const out: ParsedArgs = { config: '', flags: new Set(), values: {}, rest: [] };
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    const eq = a.indexOf('=');
    const name = a.startsWith('--') ? (eq > 0 ? a.slice(2, eq) : a.slice(2)) : '';
    if (name === 'config' || valued.includes(name)) {
      const v = eq > 0 ? a.slice(eq + 1) : args[++i];
      if (v === undefined) throw new Error(`--${name} needs a value`);
      if (name === 'config') out.config = v;
      else out.values[name] = v;
    } else if (name) out.flags.add(name);
    else out.rest.push(a);
  }
  if (!out.config) out.config = defaultConfig();
  return out;
}

export type Loaded = { ok: true; config: Config } | { ok: false; errors: string[] };

export async function loadConfig(path: string): Promise<Loaded> {
  const r = await loadConfigFile(path);
  return r.ok ? { ok: true, config: r.config } : { ok: false, errors: r.errors.map(formatConfigError) };
}
