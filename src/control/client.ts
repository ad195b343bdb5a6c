// Calls the agent over its local control socket (used by `wanbond status` where no ubusd runs).
import net from 'node:net';
import { statusText } from '../ubus/message.ts';
import { CONTROL_SOCKET_PATH, type ControlReply } from './protocol.ts';

export { CONTROL_SOCKET_PATH } from './protocol.ts';

export class ControlError extends Error {
  constructor(
    message: string,
    readonly status?: number,
  ) {
    super(message);
    this.name = 'ControlError';
  }
}

export function controlCall(method: string, args: Record<string, unknown> = {}, opts: { path?: string; timeoutMs?: number } = {}): Promise<unknown> {
  const path = opts.path ?? CONTROL_SOCKET_PATH;
  return new Promise((resolve, reject) => {
    const sock = net.createConnection(path);
    let buf = '';
    const timer = setTimeout(() => {
      sock.destroy();
      reject(new ControlError(`${path}: no answer within ${opts.timeoutMs ?? 5000} ms`));
    }, opts.timeoutMs ?? 5000);
    const done = (fn: () => void) => {
      clearTimeout(timer);
      sock.destroy();
      fn();
    };
    sock.setEncoding('utf8');
    sock.on('connect', () => sock.write(JSON.stringify({ method, args }) + '\n'));
    sock.on('error', (e) => done(() => reject(new ControlError(`${path}: ${e.message}`))));
    sock.on('data', (chunk: string) => {
      buf += chunk;
      const nl = buf.indexOf('\n');
      if (nl < 0) return;
      let reply: ControlReply;
      try {
        reply = JSON.parse(buf.slice(0, nl)) as ControlReply;
      } catch {
        return done(() => reject(new ControlError(`${path}: unreadable reply`)));
      }
      if (reply.ok) done(() => resolve(reply.result));
      else done(() => reject(new ControlError(`${method}: ${reply.error || statusText(reply.status)}`, reply.status)));
    });
    sock.on('close', () => done(() => reject(new ControlError(`${path}: closed without an answer`))));
  });
}
