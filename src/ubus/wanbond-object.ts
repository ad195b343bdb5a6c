// The `wanbond` object's methods, shared by the ubus front end and the local control socket:
// zod-checked arguments in, a ubus status code and a reply table out. Never throws.
import * as z from 'zod';
import type { AgentApi } from '../agent/api.ts';
import type { BlobmsgTable } from './blobmsg.ts';
import { BlobmsgType } from './blobmsg.ts';
import type { UbusSignature } from './client.ts';
import { UbusStatus, statusText } from './message.ts';

export const WANBOND_OBJECT = 'wanbond';

/** Method signatures as `ubus -v list wanbond` shows them. */
export const WANBOND_SIGNATURE: UbusSignature = {
  status: {},
  links: {},
  reload: {},
  set_link: { link: BlobmsgType.STRING, enabled: BlobmsgType.BOOL },
};

export const READ_METHODS = ['status', 'links'] as const;
export const WRITE_METHODS = ['reload', 'set_link'] as const;

// uhttpd-mod-ubus adds ubus_rpc_session to every call coming from LuCI; unknown keys are ignored
// as blobmsg_parse ignores them.
const session = { ubus_rpc_session: z.string().optional() };
const noArgs = z.object(session);
const setLinkArgs = z.object({
  ...session,
  link: z.string().regex(/^[A-Za-z0-9_]{1,32}$/, 'link must be a link name'),
  enabled: z.boolean(),
});

export interface WanbondReply {
  status: number;
  data?: BlobmsgTable;
  /** Human text for non-OK statuses (control socket, logs); never sent over ubus. */
  message?: string;
}

// Defence in depth: nothing that looks like key material leaves through a reply.
const SECRET_KEY = /(private|preshared|secret|password|passwd|psk|token)|(^|_)key($|_)/i;
export function redact(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(redact);
  if (v && typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) if (!SECRET_KEY.test(k)) out[k] = redact(x);
    return out;
  }
  return v;
}

const fail = (status: number, message?: string): WanbondReply => ({ status, message: message ?? statusText(status) });

export async function callWanbond(api: AgentApi, method: string, args: unknown): Promise<WanbondReply> {
  if (!Object.prototype.hasOwnProperty.call(WANBOND_SIGNATURE, method)) return fail(UbusStatus.METHOD_NOT_FOUND, `unknown method '${method}'`);
  const input = args ?? {};
  try {
    switch (method) {
      case 'status': {
        if (!noArgs.safeParse(input).success) return fail(UbusStatus.INVALID_ARGUMENT);
        return { status: UbusStatus.OK, data: redact(api.status()) as BlobmsgTable };
      }
      case 'links': {
        if (!noArgs.safeParse(input).success) return fail(UbusStatus.INVALID_ARGUMENT);
        return { status: UbusStatus.OK, data: { links: redact(api.status().links) as BlobmsgTable[] } };
      }
      case 'reload': {
        if (!noArgs.safeParse(input).success) return fail(UbusStatus.INVALID_ARGUMENT);
        const r = await api.reload();
        // A broken config is an answer, not a failure of the call: LuCI shows the errors.
        return { status: UbusStatus.OK, data: r.ok ? { ok: true } : { ok: false, errors: r.errors } };
      }
      case 'set_link': {
        const p = setLinkArgs.safeParse(input);
        if (!p.success) return fail(UbusStatus.INVALID_ARGUMENT, p.error.issues.map((i) => `${i.path.join('.') || 'args'}: ${i.message}`).join('; '));
        const r = await api.setLink(p.data.link, p.data.enabled);
        if (r.ok) return { status: UbusStatus.OK, data: { link: p.data.link, enabled: p.data.enabled } };
        return fail(r.error === 'not_found' ? UbusStatus.NOT_FOUND : UbusStatus.INVALID_ARGUMENT, r.message);
      }
    }
  } catch (e) {
    return fail(UbusStatus.UNKNOWN_ERROR, e instanceof Error ? e.message : String(e));
  }
  return fail(UbusStatus.METHOD_NOT_FOUND);
}
