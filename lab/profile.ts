// Lab profiles: the emulated links, one JSON file each in lab/profiles/ (or anywhere, by path).
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { z } from 'zod';
import { REPO_ROOT } from './run.ts';

export const LinkProfileSchema = z.object({
  /** Download rate, from the internet toward the router. */
  rate_down_kbit: z.number().positive(),
  rate_up_kbit: z.number().positive(),
  /** One-way delay, added in each direction. */
  delay_ms: z.number().min(0),
  jitter_ms: z.number().min(0).default(0),
  loss_pct: z.number().min(0).max(100).default(0),
  /** Behind a second NAT layer (carrier-grade NAT). Default: only the second link. */
  cgnat: z.boolean().optional(),
  /** Queue a modem holds beyond the delay, in milliseconds at its rate (default 150). */
  queue_ms: z.number().positive().optional(),
}).passthrough();

export const LabProfileSchema = z.object({
  name: z.string().optional(),
  description: z.string().optional(),
  links: z.array(LinkProfileSchema).min(1).max(8),
}).passthrough();

export type LinkProfile = z.infer<typeof LinkProfileSchema>;
export type LabProfile = z.infer<typeof LabProfileSchema>;

/** A profile by name (`hetero-3` -> lab/profiles/hetero-3.json) or by path to a JSON file. */
export function loadProfile(nameOrPath: string): LabProfile {
  const path = /[/\\]|\.json$/.test(nameOrPath)
    ? resolve(nameOrPath)
    : join(REPO_ROOT, 'lab', 'profiles', `${nameOrPath}.json`);
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new Error(`lab profile ${path}: ${(e as Error).message}`);
  }
  const parsed = LabProfileSchema.safeParse(raw);
  if (!parsed.success) {
    throw new Error(`lab profile ${path}: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  }
  return { name: nameOrPath, ...parsed.data };
}

/** Whether link i sits behind carrier-grade NAT. */
export function isCgnat(link: LinkProfile, index: number): boolean {
  return link.cgnat ?? index === 1;
}

/** Sum of the links' download rates, the figure benchmarks divide by. */
export function sumDownKbit(p: LabProfile): number {
  return p.links.reduce((a, l) => a + l.rate_down_kbit, 0);
}
export function sumUpKbit(p: LabProfile): number {
  return p.links.reduce((a, l) => a + l.rate_up_kbit, 0);
}
