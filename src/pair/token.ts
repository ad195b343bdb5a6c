// Pairing tokens: base64url of a versioned JSON. The checksum catches truncation and typos (it is
// not a signature: the token's authenticity comes from the channel the admin copies it over).
// Every field is checked with zod before anything is written.
import { createHash, randomBytes } from 'node:crypto';
import * as z from 'zod';

const KEY = z.string().regex(/^[A-Za-z0-9+/]{42}[AEIMQUYcgkosw048]=$/, 'not a WireGuard public key');
const NAME = z.string().regex(/^[A-Za-z0-9_]{1,12}$/, 'not a valid name');
const NONCE = z.string().regex(/^[A-Za-z0-9_-]{22}$/, 'not a valid nonce');

export const PairRequest = z.strictObject({
  v: z.literal(1),
  t: z.literal('pair'),
  site: NAME,
  links: z.array(z.strictObject({ id: z.number().int().min(1).max(16), name: NAME, public_key: KEY })).min(1).max(16),
  nonce: NONCE,
});
export type PairRequest = z.infer<typeof PairRequest>;

export const PairReply = z.strictObject({
  v: z.literal(1),
  t: z.literal('reply'),
  site: NAME,
  host: z.string().min(1).max(253).regex(/^[A-Za-z0-9.:-]+$/, 'not a host name or address'),
  port: z.number().int().min(1).max(65535),
  public_key: KEY,
  subnet: z.string().regex(/^\d+\.\d+\.\d+\.0\/24$/, 'not a /24'),
  /** The request's nonce: ties the reply to the request it answers. */
  nonce: NONCE,
});
export type PairReply = z.infer<typeof PairReply>;

export const newNonce = () => randomBytes(16).toString('base64url');

const checksum = (body: unknown) => createHash('sha256').update(JSON.stringify(body)).digest('base64url').slice(0, 12);

export function encodeToken(body: PairRequest | PairReply): string {
  return Buffer.from(JSON.stringify({ ...body, sum: checksum(body) })).toString('base64url');
}

export type Decoded<T> = { ok: true; value: T } | { ok: false; error: string };

export function decodeToken<T extends PairRequest | PairReply>(token: string, schema: z.ZodType<T>, what: string): Decoded<T> {
  const t = token.trim();
  if (!/^[A-Za-z0-9_-]+$/.test(t)) return { ok: false, error: `this is not a wanbond ${what} token (unexpected characters)` };
  let raw: unknown;
  try {
    raw = JSON.parse(Buffer.from(t, 'base64url').toString('utf8'));
  } catch {
    return { ok: false, error: `the ${what} token is damaged or truncated (copy all of it)` };
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return { ok: false, error: `this is not a wanbond ${what} token` };
  const { sum, ...body } = raw as Record<string, unknown>;
  if (typeof sum !== 'string' || sum !== checksum(body)) return { ok: false, error: `the ${what} token's checksum does not match: it was altered or truncated` };
  const parsed = schema.safeParse(body);
  if (!parsed.success) {
    const i = parsed.error.issues[0];
    return { ok: false, error: `this is not a valid ${what} token: ${i ? `${i.path.join('.') || 'token'}: ${i.message}` : 'invalid'}` };
  }
  return { ok: true, value: parsed.data };
}
