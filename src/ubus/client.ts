// A native ubus client: speaks ubusd's wire protocol itself (the messages libubus sends, byte for
// byte), serves objects, sends and listens to events, subscribes to notifications, and survives
// ubusd restarting: it reconnects with backoff and registers its objects, listeners and
// subscriptions again (libubus' ubus_auto_connect + ubus_refresh_state, done in the background).
import { EventEmitter } from 'node:events';
import net from 'node:net';
import { type Logger, silentLogger } from '../log.ts';
import { UBUS_MAX_MSGLEN, encodeAttr, encodeNested, encodeString, encodeU32, encodeU8, padLen } from './blob.ts';
import { type BlobmsgTable, bm, decodeTableBody, encodeTableBody, encodeValue } from './blobmsg.ts';
import {
  Attr,
  FrameReader,
  MsgType,
  ParsedAttrs,
  UBUS_CLIENT_ID_CHANNEL,
  UBUS_SYSTEM_OBJECT_EVENT,
  UbusError,
  type UbusMessage,
  UbusStatus,
  parseMessageAttrs,
  encodeMessage,
} from './message.ts';

export const UBUS_SOCKET_PATHS = ['/var/run/ubus/ubus.sock', '/var/run/ubus.sock'];

export interface UbusClientOptions {
  /** One socket to use; by default the current path, then the pre-21.02 one. */
  socketPath?: string;
  log?: Logger;
  /** Reconnect after the connection drops (default true). */
  reconnect?: boolean;
  minBackoffMs?: number;
  maxBackoffMs?: number;
  /** Time allowed for connect + HELLO, and default for internal requests. */
  requestTimeoutMs?: number;
}

/** method -> argument name -> blobmsg type id (the SIGNATURE `ubus -v list` shows). */
export type UbusSignature = Record<string, Record<string, number>>;

export interface UbusObjectInfo {
  path: string;
  id: number;
  typeId: number;
  signature: UbusSignature;
}

export interface UbusInvocation {
  object: string;
  method: string;
  args: BlobmsgTable;
  /** The caller's client id. */
  peer: number;
  user?: string;
  group?: string;
  noReply: boolean;
}
export interface UbusReply {
  status: number;
  data?: BlobmsgTable;
}
export type UbusHandler = (inv: UbusInvocation) => UbusReply | Promise<UbusReply>;

export interface UbusObjectHandle {
  readonly name: string;
  /** Current object id (changes after ubusd restarts); undefined while disconnected. */
  readonly id: number | undefined;
  readonly hasSubscribers: boolean;
  /** Sends a notification to subscribers (fire and forget, NO_REPLY as netifd sends them). */
  notify(type: string, data: BlobmsgTable): void;
  remove(): Promise<void>;
}

type Disposer = () => Promise<void>;
type EventCallback = (event: string, data: BlobmsgTable) => void;

interface Registration {
  kind: 'object' | 'listener' | 'subscriber';
  name: string; // object path, event pattern, or subscribed object path
  signature?: UbusSignature;
  handler?: UbusHandler;
  cb?: EventCallback;
  id?: number; // our object id on the current connection
  typeId?: number;
  target?: number; // subscriber: target object id on the current connection
  hasSubscribers: boolean;
  removed: boolean;
}

interface Pending {
  data: ParsedAttrs[];
  resolve: (r: { status: number; data: ParsedAttrs[] }) => void;
  reject: (e: Error) => void;
  timer?: NodeJS.Timeout;
}

interface ClientEvents {
  connect: [];
  disconnect: [];
}

const DEFAULT_TIMEOUT = 10_000;

function encodeSignature(sig: UbusSignature): Buffer {
  return encodeNested(
    Attr.SIGNATURE,
    Object.entries(sig).map(([m, args]) => encodeValue(m, Object.fromEntries(Object.entries(args).map(([a, t]) => [a, t])))),
  );
}

function decodeSignature(raw: Buffer | undefined): UbusSignature {
  if (!raw) return {};
  const r = decodeTableBody(raw);
  if (!r.ok) return {};
  const out: UbusSignature = {};
  for (const [m, args] of Object.entries(r.value)) {
    if (!args || typeof args !== 'object' || Array.isArray(args)) continue;
    out[m] = {};
    for (const [a, t] of Object.entries(args)) if (typeof t === 'number') out[m]![a] = t;
  }
  return out;
}

export class UbusClient extends EventEmitter<ClientEvents> {
  private sock: net.Socket | null = null;
  private reader = new FrameReader();
  private pending = new Map<string, Pending>();
  private seq = 0;
  private regs: Registration[] = [];
  private byId = new Map<number, Registration>();
  private closing = false;
  private backoff: number;
  private retryTimer?: NodeJS.Timeout;
  private autoSub?: Registration; // internal listener for ubus.object.add
  private refreshing: Promise<void> | null = null;
  private readonly log: Logger;
  private readonly timeout: number;
  private _localId = 0;
  private _socketPath = '';

  constructor(private readonly opts: UbusClientOptions = {}) {
    super();
    this.log = opts.log ?? silentLogger;
    this.timeout = opts.requestTimeoutMs ?? DEFAULT_TIMEOUT;
    this.backoff = opts.minBackoffMs ?? 100;
  }

  get connected(): boolean {
    return this.sock !== null;
  }
  get localId(): number {
    return this._localId;
  }
  get socketPath(): string {
    return this._socketPath;
  }

  /** Connects once (rejects if no ubusd answers); with `reconnect` it then stays connected. */
  async connect(): Promise<void> {
    this.closing = false;
    await this.open();
  }

  /** Connects in the background, retrying with backoff until close(); never rejects. */
  start(): void {
    this.closing = false;
    if (this.sock || this.retryTimer) return;
    this.open().catch(() => this.scheduleReconnect());
  }

  async close(): Promise<void> {
    this.closing = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    const s = this.sock;
    if (!s) return;
    await new Promise<void>((resolve) => {
      s.once('close', () => resolve());
      s.end();
      setTimeout(() => s.destroy(), 200).unref();
    });
  }

  private paths(): string[] {
    return this.opts.socketPath ? [this.opts.socketPath] : UBUS_SOCKET_PATHS;
  }

  private async open(): Promise<void> {
    const errors: UbusError[] = [];
    for (const path of this.paths()) {
      try {
        await this.openPath(path);
        return;
      } catch (e) {
        errors.push(e as UbusError);
      }
    }
    if (errors.length === 1) throw errors[0]!;
    const timeout = errors.every((e) => e.status === UbusStatus.TIMEOUT);
    throw new UbusError(timeout ? UbusStatus.TIMEOUT : UbusStatus.CONNECTION_FAILED, errors.map((e) => e.message.replace(/^[^:]+: /, '')).join('; '));
  }

  private openPath(path: string): Promise<void> {
    return new Promise((resolve, reject) => {
      const sock = net.createConnection(path);
      const reader = new FrameReader();
      let done = false;
      const fin = (err?: Error) => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        sock.removeListener('data', onHello);
        if (err) {
          sock.destroy();
          reject(err);
        }
      };
      const timer = setTimeout(() => fin(new UbusError(UbusStatus.TIMEOUT, `no HELLO from ${path}`)), this.timeout);
      sock.once('error', (e) => fin(new UbusError(UbusStatus.CONNECTION_FAILED, `${path}: ${e.message}`)));
      sock.once('close', () => fin(new UbusError(UbusStatus.CONNECTION_FAILED, `${path}: closed before HELLO`)));
      const onHello = (chunk: Buffer) => {
        const r = reader.push(chunk);
        if (!r.ok) return fin(new UbusError(UbusStatus.CONNECTION_FAILED, r.error));
        const [hello, ...rest] = r.value;
        if (!hello) return;
        if (hello.type !== MsgType.HELLO || hello.peer <= UBUS_CLIENT_ID_CHANNEL) {
          return fin(new UbusError(UbusStatus.CONNECTION_FAILED, `${path}: first message is not a valid HELLO`));
        }
        fin();
        if (this.closing) {
          // close() was called while this attempt was under way
          sock.destroy();
          return reject(new UbusError(UbusStatus.CONNECTION_FAILED, 'client closed'));
        }
        sock.removeAllListeners('error');
        sock.removeAllListeners('close');
        this.adopt(sock, path, hello.peer, reader);
        for (const m of rest) this.dispatch(sock, m);
        resolve();
        this.refreshing = this.refreshState().finally(() => {
          this.refreshing = null;
        });
        this.refreshing.then(() => this.emit('connect'));
      };
      sock.on('data', onHello);
    });
  }

  private adopt(sock: net.Socket, path: string, id: number, reader: FrameReader): void {
    this.sock = sock;
    this.reader = reader;
    this._localId = id;
    this._socketPath = path;
    this.backoff = this.opts.minBackoffMs ?? 100;
    this.log.debug(`ubus: connected to ${path} as client ${id.toString(16).padStart(8, '0')}`);
    sock.on('data', (chunk: Buffer) => {
      const r = this.reader.push(chunk);
      if (!r.ok) {
        this.log.warn(`ubus: dropping connection: ${r.error}`);
        sock.destroy();
        return;
      }
      for (const m of r.value) this.dispatch(sock, m);
    });
    sock.on('error', (e) => this.log.debug(`ubus: socket error: ${e.message}`));
    sock.on('close', () => this.onClose(sock));
  }

  private onClose(sock: net.Socket): void {
    if (this.sock !== sock) return;
    this.sock = null;
    this._localId = 0;
    for (const [k, p] of this.pending) {
      if (p.timer) clearTimeout(p.timer);
      p.reject(new UbusError(UbusStatus.CONNECTION_FAILED, 'connection to ubusd lost'));
      this.pending.delete(k);
    }
    this.byId.clear();
    for (const r of this.regs) {
      r.id = undefined;
      r.typeId = undefined;
      r.target = undefined;
      r.hasSubscribers = false;
    }
    if (this.autoSub) this.autoSub.id = undefined;
    this.emit('disconnect');
    if (!this.closing) {
      this.log.warn('ubus: connection to ubusd lost, reconnecting');
      this.scheduleReconnect();
    }
  }

  private scheduleReconnect(): void {
    if (this.closing || this.opts.reconnect === false || this.retryTimer) return;
    const delay = this.backoff;
    this.backoff = Math.min(this.backoff * 2, this.opts.maxBackoffMs ?? 5000);
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      if (this.closing || this.sock) return;
      this.open().catch(() => this.scheduleReconnect());
    }, delay);
    this.retryTimer.unref?.();
  }

  /** Registers everything again on a fresh connection (ubus_refresh_state). */
  private async refreshState(): Promise<void> {
    for (const r of [...this.regs]) {
      if (r.removed) continue;
      try {
        await this.register(r);
      } catch (e) {
        this.log.warn(`ubus: could not register ${r.kind} ${r.name}: ${(e as Error).message}`);
      }
    }
  }

  // ---- requests ------------------------------------------------------------------------------

  private write(sock: net.Socket, frame: Buffer): void {
    sock.write(frame);
  }

  private nextSeq(peer: number): number {
    for (let i = 0; i < 0x10000; i++) {
      this.seq = (this.seq + 1) & 0xffff;
      if (!this.pending.has(`${this.seq}:${peer}`)) return this.seq;
    }
    throw new UbusError(UbusStatus.NO_MEMORY, 'no free sequence number');
  }

  /** Sends a request and collects DATA replies until STATUS (matched on seq and peer). */
  private request(type: number, peer: number, attrs: Buffer[], timeoutMs = this.timeout): Promise<{ status: number; data: ParsedAttrs[] }> {
    const sock = this.sock;
    if (!sock) return Promise.reject(new UbusError(UbusStatus.CONNECTION_FAILED, 'not connected to ubusd'));
    const bodyLen = attrs.reduce((n, a) => n + a.length, 0);
    // __ubus_start_request: a message whose padded root exceeds UBUS_MAX_MSGLEN is refused locally.
    if (padLen(4 + bodyLen) > UBUS_MAX_MSGLEN) {
      return Promise.reject(new UbusError(UbusStatus.INVALID_ARGUMENT, `message of ${4 + bodyLen} bytes exceeds ${UBUS_MAX_MSGLEN}`));
    }
    const seq = this.nextSeq(peer);
    const key = `${seq}:${peer}`;
    return new Promise((resolve, reject) => {
      const p: Pending = { data: [], resolve, reject };
      if (timeoutMs > 0) {
        p.timer = setTimeout(() => {
          this.pending.delete(key);
          reject(new UbusError(UbusStatus.TIMEOUT));
        }, timeoutMs);
      }
      this.pending.set(key, p);
      this.write(sock, encodeMessage(type, seq, peer, attrs));
    });
  }

  private async expectOk(type: number, peer: number, attrs: Buffer[], timeoutMs?: number): Promise<ParsedAttrs[]> {
    const r = await this.request(type, peer, attrs, timeoutMs);
    if (r.status !== UbusStatus.OK) throw new UbusError(r.status);
    return r.data;
  }

  async lookup(path?: string): Promise<UbusObjectInfo[]> {
    const r = await this.request(MsgType.LOOKUP, 0, path ? [encodeString(Attr.OBJPATH, path)] : []);
    if (r.status !== UbusStatus.OK) throw new UbusError(r.status, path);
    const out: UbusObjectInfo[] = [];
    for (const d of r.data) {
      const p = d.str(Attr.OBJPATH);
      const id = d.u32(Attr.OBJID);
      const typeId = d.u32(Attr.OBJTYPE);
      if (p === undefined || id === undefined || typeId === undefined) continue;
      out.push({ path: p, id, typeId, signature: decodeSignature(d.raw(Attr.SIGNATURE)) });
    }
    return out;
  }

  async lookupId(path: string): Promise<number> {
    const objs = await this.lookup(path);
    const o = objs[0];
    if (!o) throw new UbusError(UbusStatus.NOT_FOUND, path);
    return o.id;
  }

  /** All DATA replies of a call; rejects with UbusError(status) unless the status is OK. */
  async callAll(object: string | number, method: string, args: BlobmsgTable = {}, timeoutMs = 30_000): Promise<BlobmsgTable[]> {
    const id = typeof object === 'number' ? object : await this.lookupId(object);
    const attrs = [encodeU32(Attr.OBJID, id), encodeString(Attr.METHOD, method), encodeAttr(Attr.DATA, encodeTableBody(args))];
    const r = await this.request(MsgType.INVOKE, id, attrs, timeoutMs);
    if (r.status !== UbusStatus.OK) throw new UbusError(r.status, `${typeof object === 'number' ? object : object} ${method}`);
    const out: BlobmsgTable[] = [];
    for (const d of r.data) {
      const raw = d.raw(Attr.DATA);
      if (!raw) continue;
      const t = decodeTableBody(raw);
      if (!t.ok) throw new UbusError(UbusStatus.PARSE_ERROR, t.error);
      out.push(t.value);
    }
    return out;
  }

  /** The (first) reply of `ubus call object method args`, or null when the method sent none. */
  async call(object: string | number, method: string, args: BlobmsgTable = {}, timeoutMs = 30_000): Promise<BlobmsgTable | null> {
    const all = await this.callAll(object, method, args, timeoutMs);
    return all[0] ?? null;
  }

  /** `ubus send event data` (ubus_send_event). */
  async send(event: string, data: BlobmsgTable = {}): Promise<void> {
    const body = Buffer.concat([encodeValue('id', event), encodeValue('data', data)]);
    await this.expectOk(MsgType.INVOKE, UBUS_SYSTEM_OBJECT_EVENT, [
      encodeU32(Attr.OBJID, UBUS_SYSTEM_OBJECT_EVENT),
      encodeString(Attr.METHOD, 'send'),
      encodeAttr(Attr.DATA, body),
    ]);
  }

  // ---- registrations -------------------------------------------------------------------------

  private async addAnon(r: Registration): Promise<void> {
    const data = await this.expectOk(MsgType.ADD_OBJECT, 0, []);
    const id = data.map((d) => d.u32(Attr.OBJID)).find((x) => x !== undefined);
    if (id === undefined) throw new UbusError(UbusStatus.NO_DATA, 'ADD_OBJECT without OBJID');
    r.id = id;
    this.byId.set(id, r);
  }

  private async register(r: Registration): Promise<void> {
    if (r.kind === 'object') {
      const data = await this.expectOk(MsgType.ADD_OBJECT, 0, [encodeString(Attr.OBJPATH, r.name), encodeSignature(r.signature ?? {})]);
      const d = data.find((x) => x.has(Attr.OBJID));
      if (!d) throw new UbusError(UbusStatus.NO_DATA, 'ADD_OBJECT without OBJID');
      r.id = d.u32(Attr.OBJID)!;
      r.typeId = d.u32(Attr.OBJTYPE);
      this.byId.set(r.id, r);
      return;
    }
    await this.addAnon(r);
    if (r.kind === 'listener') {
      await this.registerPattern(r.id!, r.name);
      return;
    }
    await this.ensureAutoSubscribe();
    await this.trySubscribe(r);
  }

  private async registerPattern(objId: number, pattern: string): Promise<void> {
    // blobmsg_add_u32: an object id above 2^31 is still an INT32, not an INT64.
    const body = Buffer.concat([encodeValue('object', bm.int32(objId)), encodeValue('pattern', pattern)]);
    await this.expectOk(MsgType.INVOKE, UBUS_SYSTEM_OBJECT_EVENT, [
      encodeU32(Attr.OBJID, UBUS_SYSTEM_OBJECT_EVENT),
      encodeString(Attr.METHOD, 'register'),
      encodeAttr(Attr.DATA, body),
    ]);
  }

  /** Subscribes when the target exists; otherwise waits for its ubus.object.add. */
  private async trySubscribe(r: Registration, knownId?: number): Promise<void> {
    if (r.id === undefined || r.removed) return;
    let target = knownId;
    if (target === undefined) {
      try {
        target = await this.lookupId(r.name);
      } catch (e) {
        if (e instanceof UbusError && e.status === UbusStatus.NOT_FOUND) {
          this.log.debug(`ubus: ${r.name} not there yet, subscribing when it appears`);
          return;
        }
        throw e;
      }
    }
    await this.expectOk(MsgType.SUBSCRIBE, 0, [encodeU32(Attr.OBJID, r.id), encodeU32(Attr.TARGET, target)]);
    r.target = target;
  }

  private async ensureAutoSubscribe(): Promise<void> {
    if (this.autoSub?.id !== undefined) return;
    const reg: Registration = this.autoSub ?? {
      kind: 'listener',
      name: 'ubus.object.add',
      hasSubscribers: false,
      removed: false,
      cb: (_ev, data) => {
        const path = data.path;
        if (typeof path !== 'string' || typeof data.id !== 'number') return;
        const id = data.id >>> 0;
        for (const s of this.regs) {
          if (s.kind !== 'subscriber' || s.removed || s.name !== path || s.target === id) continue;
          this.trySubscribe(s, id).catch((e) => this.log.warn(`ubus: subscribing to ${path}: ${(e as Error).message}`));
        }
      },
    };
    this.autoSub = reg;
    await this.addAnon(reg);
    await this.registerPattern(reg.id!, reg.name);
  }

  private async track(r: Registration): Promise<void> {
    this.regs.push(r);
    if (!this.sock) return; // registered on (re)connect
    if (this.refreshing) await this.refreshing;
    if (r.id === undefined && this.sock) {
      try {
        await this.register(r);
      } catch (e) {
        this.regs = this.regs.filter((x) => x !== r);
        throw e;
      }
    }
  }

  private async untrack(r: Registration): Promise<void> {
    r.removed = true;
    this.regs = this.regs.filter((x) => x !== r);
    if (r.id === undefined || !this.sock) return;
    this.byId.delete(r.id);
    await this.expectOk(MsgType.REMOVE_OBJECT, 0, [encodeU32(Attr.OBJID, r.id)]).catch(() => undefined);
    r.id = undefined;
  }

  /** Publishes an object (ubus_add_object with its type signature) and serves its methods. */
  async addObject(name: string, methods: UbusSignature, handler: UbusHandler): Promise<UbusObjectHandle> {
    const r: Registration = { kind: 'object', name, signature: methods, handler, hasSubscribers: false, removed: false };
    await this.track(r);
    const client = this;
    return {
      name,
      get id() {
        return r.id;
      },
      get hasSubscribers() {
        return r.hasSubscribers;
      },
      notify(type: string, data: BlobmsgTable) {
        client.notify(r, type, data);
      },
      remove: () => this.untrack(r),
    };
  }

  private notify(r: Registration, type: string, data: BlobmsgTable): void {
    const sock = this.sock;
    if (!sock || r.id === undefined) return;
    const attrs = [encodeU32(Attr.OBJID, r.id), encodeString(Attr.METHOD, type), encodeAttr(Attr.DATA, encodeTableBody(data)), encodeU8(Attr.NO_REPLY, 1)];
    this.write(sock, encodeMessage(MsgType.NOTIFY, this.nextSeq(r.id), r.id, attrs));
  }

  /** `ubus listen pattern` (a trailing * matches by prefix); returns a function that stops it. */
  async listen(pattern: string, cb: EventCallback): Promise<Disposer> {
    const r: Registration = { kind: 'listener', name: pattern, cb, hasSubscribers: false, removed: false };
    await this.track(r);
    return () => this.untrack(r);
  }

  /** `ubus subscribe path`: notifications of that object, kept across its restarts and ubusd's. */
  async subscribe(objectPath: string, cb: EventCallback): Promise<Disposer> {
    const r: Registration = { kind: 'subscriber', name: objectPath, cb, hasSubscribers: false, removed: false };
    await this.track(r);
    return () => this.untrack(r);
  }

  // ---- incoming ------------------------------------------------------------------------------

  private dispatch(sock: net.Socket, m: UbusMessage): void {
    const attrs = parseMessageAttrs(m.body);
    if (!attrs.ok) {
      this.log.warn(`ubus: malformed message type ${m.type}: ${attrs.error}`);
      return;
    }
    const a = attrs.value;
    switch (m.type) {
      case MsgType.STATUS:
      case MsgType.DATA: {
        const key = `${m.seq}:${m.peer}`;
        const p = this.pending.get(key);
        if (!p) return;
        if (m.type === MsgType.DATA) {
          p.data.push(a);
          return;
        }
        this.pending.delete(key);
        if (p.timer) clearTimeout(p.timer);
        // ubus_process_req_status: a STATUS without the attribute counts as INVALID_ARGUMENT.
        p.resolve({ status: a.u32(Attr.STATUS) ?? UbusStatus.INVALID_ARGUMENT, data: p.data });
        return;
      }
      case MsgType.INVOKE:
        this.onInvoke(sock, m, a);
        return;
      case MsgType.UNSUBSCRIBE: {
        const r = this.byId.get(a.u32(Attr.OBJID) ?? 0);
        if (r?.kind === 'subscriber' && r.target === a.u32(Attr.TARGET)) r.target = undefined;
        return;
      }
      case MsgType.NOTIFY: {
        const r = this.byId.get(a.u32(Attr.OBJID) ?? 0);
        if (r && a.has(Attr.ACTIVE)) r.hasSubscribers = a.u8(Attr.ACTIVE) !== 0;
        return;
      }
      default:
        return;
    }
  }

  private onInvoke(sock: net.Socket, m: UbusMessage, a: ParsedAttrs): void {
    const objId = a.u32(Attr.OBJID);
    if (objId === undefined) return;
    const r = objId === this.autoSub?.id ? this.autoSub : this.byId.get(objId);
    if (!r) return; // libubus answers NOT_FOUND with seq/peer 0, which ubusd drops: same effect
    const noReply = a.u8(Attr.NO_REPLY) === 1;
    const reply = (status: number, data?: BlobmsgTable) => {
      if (noReply || this.sock !== sock) return;
      const frames: Buffer[] = [];
      if (data) {
        const body = encodeTableBody(data);
        if (padLen(4 + 12 + 4 + body.length) > UBUS_MAX_MSGLEN) {
          this.log.error(`ubus: reply to ${r.name} ${a.str(Attr.METHOD)} too large (${body.length} bytes)`);
          status = UbusStatus.UNKNOWN_ERROR;
        } else {
          frames.push(encodeMessage(MsgType.DATA, m.seq, m.peer, [encodeU32(Attr.OBJID, objId), encodeAttr(Attr.DATA, body)]));
        }
      }
      frames.push(encodeMessage(MsgType.STATUS, m.seq, m.peer, [encodeU32(Attr.STATUS, status), encodeU32(Attr.OBJID, objId)]));
      for (const f of frames) this.write(sock, f);
    };
    const method = a.str(Attr.METHOD);
    if (method === undefined) return reply(UbusStatus.INVALID_ARGUMENT);
    if (r.kind === 'object' && !Object.prototype.hasOwnProperty.call(r.signature ?? {}, method)) return reply(UbusStatus.METHOD_NOT_FOUND);
    const raw = a.raw(Attr.DATA);
    if (!raw) return reply(UbusStatus.INVALID_ARGUMENT);
    const args = decodeTableBody(raw);
    if (!args.ok) return reply(UbusStatus.INVALID_ARGUMENT);
    if (r.kind !== 'object') {
      try {
        r.cb?.(method, args.value);
      } catch (e) {
        this.log.warn(`ubus: ${r.kind} callback for ${method} failed: ${(e as Error).message}`);
      }
      return reply(UbusStatus.OK);
    }
    const inv: UbusInvocation = { object: r.name, method, args: args.value, peer: m.peer, user: a.str(Attr.USER), group: a.str(Attr.GROUP), noReply };
    Promise.resolve()
      .then(() => r.handler!(inv))
      .then(
        (res) => {
          try {
            reply(res.status, res.data);
          } catch (e) {
            this.log.error(`ubus: encoding reply of ${r.name} ${method}: ${(e as Error).message}`);
            reply(UbusStatus.UNKNOWN_ERROR);
          }
        },
        (e: unknown) => {
          this.log.error(`ubus: ${r.name} ${method} failed: ${e instanceof Error ? e.message : String(e)}`);
          reply(e instanceof UbusError ? e.status : UbusStatus.UNKNOWN_ERROR);
        },
      );
  }
}

export { UbusError, UbusStatus } from './message.ts';
export { BlobmsgType } from './blobmsg.ts';
