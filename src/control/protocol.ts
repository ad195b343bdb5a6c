// The local control socket's wire format: one JSON object per line each way.
// Request {method, args?, id?}; reply {ok: true, result, id?} or {ok: false, error, status, id?}.
import * as z from 'zod';

export const CONTROL_SOCKET_PATH = '/var/run/wanbond/control.sock';
/** Longest request line accepted; the same ceiling as a ubus message. */
export const CONTROL_MAX_LINE = 1048576;

export const controlRequestSchema = z.object({
  method: z.string().min(1).max(64),
  args: z.record(z.string(), z.unknown()).optional(),
  id: z.union([z.string().max(64), z.number()]).optional(),
});
export type ControlRequest = z.infer<typeof controlRequestSchema>;

export type ControlReply =
  | { ok: true; result: unknown; id?: string | number }
  | { ok: false; error: string; status: number; id?: string | number };
