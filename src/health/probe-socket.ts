// One UDP socket per link, bound to this end's tunnel address on that link, talking to the peer's
// tunnel address: answers the peer's probes, sends ours, and passes replies and capacity reports
// up. Only datagrams from the expected peer address that validate are used; the rest is counted.
import dgram from 'node:dgram';
import { decodeMessage, encodeMessage, type GarbageCounter, type HealthMessage } from './probe-message.ts';

/** UDP port of the health channel at both ends (inside the tunnels only). */
export const HEALTH_PORT = 5790;

export interface ProbeSocketOptions {
  link: number; // link id, carried in every message
  local: string; // this end's tunnel address on the link
  peer: string; // the peer's tunnel address on the link
  port?: number;
  garbage: GarbageCounter;
  onMessage: (msg: Exclude<HealthMessage, { t: 'probe' }>, at: number) => void;
  /** Every valid datagram from the peer, probes included: the link carries something toward us. */
  onHeard?: (at: number) => void;
  clock: () => number;
}

export class ProbeSocket {
  private sock: dgram.Socket | null = null;
  private bound = false;
  private readonly port: number;

  constructor(private readonly o: ProbeSocketOptions) {
    this.port = o.port ?? HEALTH_PORT;
  }

  get ready(): boolean {
    return this.bound;
  }

  /** Bind; fails quietly (returns false) while the tunnel address does not exist yet. */
  async open(): Promise<boolean> {
    if (this.sock) return this.bound;
    const sock = dgram.createSocket({ type: 'udp4', reuseAddr: true });
    this.sock = sock;
    sock.on('message', (buf, rinfo) => this.receive(buf, rinfo));
    const ok = await new Promise<boolean>((resolve) => {
      sock.once('error', () => resolve(false));
      sock.bind({ address: this.o.local, port: this.port, exclusive: true }, () => resolve(true));
    });
    if (!ok) {
      this.close();
      return false;
    }
    sock.on('error', () => {}); // send errors (no route while a tunnel is down) are loss, not crashes
    this.bound = true;
    return true;
  }

  send(msg: HealthMessage): void {
    if (!this.sock || !this.bound) return;
    this.sock.send(encodeMessage(msg), this.port, this.o.peer, () => {});
  }

  close(): void {
    const s = this.sock;
    this.sock = null;
    this.bound = false;
    if (s) {
      try {
        s.close();
      } catch {
        // already closed
      }
    }
  }

  private receive(buf: Buffer, rinfo: dgram.RemoteInfo): void {
    const at = this.o.clock();
    if (rinfo.address !== this.o.peer) return this.o.garbage.add('unknown_peer');
    const r = decodeMessage(buf);
    if (!r.ok) return this.o.garbage.add(r.why);
    if (r.msg.link !== this.o.link) return this.o.garbage.add('wrong_link');
    this.o.onHeard?.(at);
    if (r.msg.t === 'probe') {
      this.send({ v: r.msg.v, t: 'reply', link: r.msg.link, seq: r.msg.seq, ts: r.msg.ts, d: Math.round((at - r.msg.ts) * 100) / 100 });
      return;
    }
    this.o.onMessage(r.msg, at);
  }
}
