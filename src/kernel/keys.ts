// WireGuard keys: generated with `wg genkey` into 0600 files; public keys derived with `wg pubkey`
// from stdin. Private keys never appear in argv, logs or errors.
import { chmodSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { execa } from 'execa';

const KEY_RE = /^[A-Za-z0-9+/]{42}[AEIMQUYcgkosw048]=$/;

export async function ensureKey(file: string): Promise<void> {
  if (existsSync(file)) {
    chmodSync(file, 0o600);
    return;
  }
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  const r = await execa('wg', ['genkey'], { reject: false });
  const key = String(r.stdout ?? '').trim();
  if (r.exitCode !== 0 || !KEY_RE.test(key)) throw new Error('wg genkey failed (is wireguard-tools installed?)');
  writeFileSync(file, key + '\n', { mode: 0o600, flag: 'wx' });
  chmodSync(file, 0o600);
}

export async function publicKeyOf(file: string): Promise<string> {
  const priv = readFileSync(file, 'utf8').trim();
  if (!KEY_RE.test(priv)) throw new Error(`${file} does not hold a WireGuard private key`);
  const r = await execa('wg', ['pubkey'], { input: priv, reject: false });
  const pub = String(r.stdout ?? '').trim();
  if (r.exitCode !== 0 || !KEY_RE.test(pub)) throw new Error(`wg pubkey failed for ${file}`);
  return pub;
}

const cache = new Map<string, { mtime: number; pub: string }>();

/** Public key of every readable key file (remembered until the file changes); missing or broken files are left out. */
export async function publicKeys(files: string[]): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const f of new Set(files)) {
    try {
      const mtime = statSync(f).mtimeMs;
      const hit = cache.get(f);
      if (hit && hit.mtime === mtime) {
        out[f] = hit.pub;
        continue;
      }
      out[f] = await publicKeyOf(f);
      cache.set(f, { mtime, pub: out[f] });
    } catch {
      /* left out: diff then sets the key from the file, and wg reports what is wrong */
    }
  }
  return out;
}

export const isWgKey = (k: string) => KEY_RE.test(k);
