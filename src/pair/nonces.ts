// Nonces already used, kept in a small JSON file so a replayed token is refused across restarts.
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import * as z from 'zod';

const File = z.object({ used: z.array(z.string()).default([]), pending: z.array(z.object({ nonce: z.string(), site: z.string() })).default([]) });
export type NonceFile = z.infer<typeof File>;

export const DEFAULT_PAIR_STATE = '/etc/wanbond/pair-state.json';

export function readNonces(path: string): NonceFile {
  if (!existsSync(path)) return { used: [], pending: [] };
  const r = File.safeParse(JSON.parse(readFileSync(path, 'utf8')));
  if (!r.success) throw new Error(`${path} is damaged; move it away to reset pairing state`);
  return r.data;
}

export function writeNonces(path: string, f: NonceFile): void {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const tmp = `${path}.tmp`;
  writeFileSync(tmp, JSON.stringify({ used: f.used.slice(-1000), pending: f.pending.slice(-20) }) + '\n', { mode: 0o600 });
  renameSync(tmp, path);
}
