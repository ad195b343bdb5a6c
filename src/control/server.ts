// The agent's local control socket: the `wanbond` object's methods without ubus (the concentrator
// has no ubusd). Root only: the socket is 0600 inside a 0700 directory.
import { chmodSync, existsSync, lstatSync, mkdirSync, unlinkSync } from 'node:fs';
import net from 'node:net';
import { dirname } from 'node:path';
import type { AgentApi } from '../agent/api.ts';
import { UbusStatus } from '../ubus/message.ts';
import { callWanbond } from '../ubus/wanbond-object.ts';
import { CONTROL_MAX_LINE, type ControlReply, controlRequestSchema } from './protocol.ts';

export { CONTROL_SOCKET_PATH } from './protocol.ts';

async function answer(api: AgentApi, line: string): Promise<ControlReply> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(line);
  } catch {
    return { ok: false, error: 'invalid JSON', status: UbusStatus.PARSE_ERROR };
  }
  const req = controlRequestSchema.safeParse(parsed);
  if (!req.success) return { ok: false, error: 'request must be {"method": string, "args"?: object}', status: UbusStatus.INVALID_ARGUMENT };
  const { method, args, id } = req.data;
  const r = await callWanbond(api, method, args ?? {});
  const withId = id === undefined ? {} : { id };
  if (r.status === UbusStatus.OK) return { ok: true, result: r.data ?? {}, ...withId };
  return { ok: false, error: r.message ?? 'failed', status: r.status, ...withId };
}

function serve(api: AgentApi, sock: net.Socket): void {
  let buf = '';
  let queue = Promise.resolve();
  sock.setEncoding('utf8');
  sock.on('error', () => undefined);
  sock.on('data', (chunk: string) => {
    buf += chunk;
    if (buf.length > CONTROL_MAX_LINE && !buf.includes('\n')) {
      sock.end(JSON.stringify({ ok: false, error: 'request line too long', status: UbusStatus.INVALID_ARGUMENT }) + '\n');
      buf = '';
      return;
    }
    let nl: number;
    while ((nl = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, nl).trim();
      buf = buf.slice(nl + 1);
      if (!line) continue;
      // Answers go out in request order.
      queue = queue.then(async () => {
        const reply = await answer(api, line);
        if (!sock.destroyed) sock.write(JSON.stringify(reply) + '\n');
      });
    }
  });
}

/** Removes a socket left by a crashed agent; refuses to take one a live agent still answers on. */
async function removeStale(path: string): Promise<void> {
  if (!existsSync(path)) return;
  if (!lstatSync(path).isSocket()) throw new Error(`${path} exists and is not a socket`);
  const live = await new Promise<boolean>((resolve) => {
    const s = net.createConnection(path);
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
  if (live) throw new Error(`${path} is in use: another wanbond agent is running`);
  unlinkSync(path);
}

export async function startControlServer(api: AgentApi, path: string): Promise<{ close(): Promise<void> }> {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  await removeStale(path);
  const server = net.createServer((s) => serve(api, s));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(path, () => resolve());
  });
  chmodSync(path, 0o600);
  return {
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => {
          try {
            if (existsSync(path)) unlinkSync(path);
          } catch {
            /* already gone */
          }
          resolve();
        });
      }),
  };
}
