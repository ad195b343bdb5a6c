// TEST DOUBLE of OpenWrt's ubusd (ubusd cannot be installed here: no Debian package). It follows
// ubusd's behaviour as read in openwrt/ubus (ubusd_main.c, ubusd_proto.c, ubusd_event.c,
// ubusd_obj.c) and documented in /work/shared/reference/openwrt.md §1: HELLO with a random client
// id, object and type ids >= 1024, LOOKUP (all, exact, trailing-* prefix, in path order), INVOKE
// routing with the caller's id as peer and the reply's peer rewritten to the object id, events
// (register/send on object 1, no loopback, no duplicates, ubus.object.add/remove), SUBSCRIBE /
// NOTIFY / UNSUBSCRIBE, the 1 MiB message limit (disconnect) and the 1 MiB transmit queue limit
// (drop). No ACLs: every client is treated as root, as ubusd treats uid 0.
import { randomInt } from 'node:crypto';
import { existsSync, unlinkSync } from 'node:fs';
import net from 'node:net';
import { encodeAttr, encodeNested, encodeString, encodeU32, encodeU8, UBUS_MAX_MSGLEN } from '../../../src/ubus/blob.ts';
import { BlobmsgType, encodeValue, fieldsOf, readField } from '../../../src/ubus/blobmsg.ts';
import { readAttrAt } from '../../../src/ubus/blob.ts';
import {
  Attr,
  FrameReader,
  MsgType,
  type ParsedAttrs,
  UBUS_SYSTEM_OBJECT_EVENT,
  UBUS_SYSTEM_OBJECT_MAX,
  type UbusMessage,
  UbusStatus,
  encodeMessage,
  parseMessageAttrs,
} from '../../../src/ubus/message.ts';

interface Client {
  id: number;
  sock: net.Socket;
  objects: Set<Obj>;
  user: string;
  group: string;
}
interface ObjType {
  id: number;
  refcount: number;
  methods: Buffer[]; // each a complete blobmsg TABLE attribute, as ubusd stores them
}
interface Obj {
  id: number;
  path?: string;
  type?: ObjType;
  client: Client | null;
  subscribers: Set<Obj>; // objects subscribed to this one
  targets: Set<Obj>; // objects this one subscribes to
  patterns: { key: string; partial: boolean }[];
  eventSeen: number;
  invokeSeq: number;
}

export interface RecordedFrame {
  dir: 'in' | 'out';
  client: number;
  bytes: Buffer;
}

const UBUS_CLIENT_MAX_TXQ_LEN = UBUS_MAX_MSGLEN;
const NONE = -1; // handler answered itself (or forwarded); no STATUS from the broker

export class TestUbusd {
  private server: net.Server | null = null;
  private clients = new Map<number, Client>();
  private objects = new Map<number, Obj>();
  private paths = new Map<string, Obj>();
  private types = new Map<number, ObjType>();
  private eventSeq = 0;
  private objEventSeq = 1;
  /** Every frame in and out, when `record` is on. */
  readonly frames: RecordedFrame[] = [];
  record = false;
  /** Frames dropped because a client's transmit queue was over 1 MiB. */
  dropped = 0;

  constructor(
    readonly socketPath: string,
    private readonly creds = { user: 'root', group: 'root' },
  ) {}

  async start(): Promise<void> {
    if (existsSync(this.socketPath)) unlinkSync(this.socketPath);
    const event: Obj = this.newObj(null, undefined, UBUS_SYSTEM_OBJECT_EVENT);
    this.objects.set(event.id, event);
    this.server = net.createServer((s) => this.accept(s));
    await new Promise<void>((resolve, reject) => {
      this.server!.once('error', reject);
      this.server!.listen(this.socketPath, () => resolve());
    });
  }

  /** Like killing ubusd: every connection drops, all state is gone. */
  async stop(): Promise<void> {
    const srv = this.server;
    this.server = null;
    for (const c of this.clients.values()) c.sock.destroy();
    this.clients.clear();
    this.objects.clear();
    this.paths.clear();
    this.types.clear();
    if (srv) await new Promise<void>((r) => srv.close(() => r()));
    if (existsSync(this.socketPath)) unlinkSync(this.socketPath);
  }

  get clientCount(): number {
    return this.clients.size;
  }
  /** How many objects subscribe to the object at `path` (0 if there is none). */
  subscriberCount(path: string): number {
    return this.paths.get(path)?.subscribers.size ?? 0;
  }
  objectPaths(): string[] {
    return [...this.paths.keys()].sort(strcmp);
  }

  // ---- plumbing ------------------------------------------------------------------------------

  private allocId(taken: (id: number) => boolean): number {
    for (;;) {
      const id = randomInt(UBUS_SYSTEM_OBJECT_MAX, 2 ** 32 - 1);
      if (!taken(id)) return id;
    }
  }

  private accept(sock: net.Socket): void {
    const cl: Client = { id: this.allocId((i) => this.clients.has(i)), sock, objects: new Set(), ...this.creds };
    this.clients.set(cl.id, cl);
    const reader = new FrameReader();
    sock.on('data', (chunk: Buffer) => {
      if (!this.clients.has(cl.id)) return;
      const r = reader.push(chunk);
      if (!r.ok) {
        // ubusd: a bad header or an over-long message disconnects the client.
        sock.destroy();
        return;
      }
      for (const m of r.value) {
        if (this.record) this.frames.push({ dir: 'in', client: cl.id, bytes: frameBytes(m) });
        this.receive(cl, m);
      }
    });
    sock.on('error', () => undefined);
    sock.on('close', () => this.disconnect(cl));
    this.sendTo(cl, MsgType.HELLO, 0, cl.id, []);
  }

  private sendRaw(cl: Client, frame: Buffer): void {
    if (cl.sock.destroyed) return;
    // ubus_msg_enqueue: beyond 1 MiB queued for a slow reader, messages are dropped.
    if (cl.sock.writableLength + frame.length > UBUS_CLIENT_MAX_TXQ_LEN) {
      this.dropped++;
      return;
    }
    if (this.record) this.frames.push({ dir: 'out', client: cl.id, bytes: frame });
    cl.sock.write(frame);
  }

  private sendTo(cl: Client, type: number, seq: number, peer: number, attrs: Buffer[]): void {
    this.sendRaw(cl, encodeMessage(type, seq, peer, attrs));
  }

  private disconnect(cl: Client): void {
    if (!this.clients.delete(cl.id)) return;
    for (const o of [...cl.objects]) this.freeObject(o);
  }

  // ---- objects -------------------------------------------------------------------------------

  private newObj(client: Client | null, type: ObjType | undefined, id?: number): Obj {
    const o: Obj = {
      id: id ?? this.allocId((i) => this.objects.has(i)),
      type,
      client,
      subscribers: new Set(),
      targets: new Set(),
      patterns: [],
      eventSeen: 0,
      invokeSeq: 0,
    };
    if (type) type.refcount++;
    return o;
  }

  private unrefType(t: ObjType): void {
    if (--t.refcount <= 0) this.types.delete(t.id);
  }

  private freeObject(o: Obj): void {
    for (const t of [...o.targets]) this.unsubscribe(o, t);
    for (const s of [...o.subscribers]) {
      // ubus_notify_unsubscribe: tell the subscriber its target is gone.
      if (s.client) this.sendTo(s.client, MsgType.UNSUBSCRIBE, ++s.invokeSeq, 0, [encodeU32(Attr.OBJID, s.id), encodeU32(Attr.TARGET, o.id)]);
      this.unsubscribe(s, o);
    }
    o.patterns = [];
    if (o.path !== undefined) {
      this.sendObjEvent(o, false);
      this.paths.delete(o.path);
    }
    o.client?.objects.delete(o);
    this.objects.delete(o.id);
    if (o.type) this.unrefType(o.type);
  }

  private subscribe(obj: Obj, target: Obj): void {
    const first = target.subscribers.size === 0;
    target.subscribers.add(obj);
    obj.targets.add(target);
    if (first) this.notifySubscription(target);
  }

  private unsubscribe(obj: Obj, target: Obj): void {
    target.subscribers.delete(obj);
    obj.targets.delete(target);
    if (target.subscribers.size === 0) this.notifySubscription(target);
  }

  private notifySubscription(target: Obj): void {
    if (!target.client || !this.clients.has(target.client.id)) return;
    this.sendTo(target.client, MsgType.NOTIFY, ++target.invokeSeq, 0, [encodeU32(Attr.OBJID, target.id), encodeU8(Attr.ACTIVE, target.subscribers.size > 0 ? 1 : 0)]);
  }

  // ---- protocol ------------------------------------------------------------------------------

  private receive(cl: Client, m: UbusMessage): void {
    const parsed = parseMessageAttrs(m.body);
    // blob_parse_untrusted on garbage finds no attributes; handlers then see them missing.
    const a = parsed.ok ? parsed.value : emptyAttrs();
    let ret: number;
    switch (m.type) {
      case MsgType.PING:
        this.sendRaw(cl, encodeMessage(MsgType.DATA, m.seq, m.peer, [m.body]));
        ret = NONE;
        break;
      case MsgType.ADD_OBJECT:
        ret = this.addObject(cl, m, a);
        break;
      case MsgType.REMOVE_OBJECT:
        ret = this.removeObject(cl, m, a);
        break;
      case MsgType.LOOKUP:
        ret = this.lookup(cl, m, a);
        break;
      case MsgType.INVOKE:
        ret = this.invoke(cl, m, a);
        break;
      case MsgType.STATUS:
      case MsgType.DATA:
        ret = this.response(cl, m, a);
        break;
      case MsgType.SUBSCRIBE:
        ret = this.addWatch(cl, a);
        break;
      case MsgType.UNSUBSCRIBE:
        ret = this.removeWatch(cl, a);
        break;
      case MsgType.NOTIFY:
        ret = this.notify(cl, m, a);
        break;
      default:
        ret = UbusStatus.INVALID_COMMAND;
    }
    if (ret !== NONE) this.sendTo(cl, MsgType.STATUS, m.seq, m.peer, [encodeU32(Attr.STATUS, ret)]);
  }

  private addObject(cl: Client, m: UbusMessage, a: ParsedAttrs): number {
    let type: ObjType | undefined;
    const typeId = a.u32(Attr.OBJTYPE);
    const sig = a.raw(Attr.SIGNATURE);
    if (typeId !== undefined) {
      type = this.types.get(typeId);
    } else if (sig) {
      const methods: Buffer[] = [];
      let off = 0;
      while (off < sig.length) {
        const r = readAttrAt(sig, off, sig.length);
        if (!r.ok) return UbusStatus.INVALID_ARGUMENT;
        const f = readField(r.value.attr);
        if (!f.ok || f.value.name === '') return UbusStatus.INVALID_ARGUMENT;
        methods.push(sig.subarray(off, r.value.next));
        off = r.value.next;
      }
      type = { id: this.allocId((i) => this.types.has(i)), refcount: 0, methods };
      this.types.set(type.id, type);
    }
    const o = this.newObj(null, type);
    const path = a.str(Attr.OBJPATH);
    if (path !== undefined) {
      if (this.paths.has(path)) {
        if (type) this.unrefType(type);
        return UbusStatus.INVALID_ARGUMENT;
      }
      o.path = path;
      this.paths.set(path, o);
      this.objects.set(o.id, o);
      this.sendObjEvent(o, true);
    } else {
      this.objects.set(o.id, o);
    }
    o.client = cl;
    cl.objects.add(o);
    const attrs = [encodeU32(Attr.OBJID, o.id)];
    if (sig && o.type) attrs.push(encodeU32(Attr.OBJTYPE, o.type.id));
    this.sendTo(cl, MsgType.DATA, m.seq, m.peer, attrs);
    return UbusStatus.OK;
  }

  private removeObject(cl: Client, m: UbusMessage, a: ParsedAttrs): number {
    const id = a.u32(Attr.OBJID);
    if (id === undefined) return UbusStatus.INVALID_ARGUMENT;
    const o = this.objects.get(id);
    if (!o) return UbusStatus.NOT_FOUND;
    if (o.client !== cl) return UbusStatus.PERMISSION_DENIED;
    const attrs = [encodeU32(Attr.OBJID, o.id)];
    if (o.type && o.type.refcount === 1) attrs.push(encodeU32(Attr.OBJTYPE, o.type.id));
    this.sendTo(cl, MsgType.DATA, m.seq, m.peer, attrs);
    this.freeObject(o);
    return UbusStatus.OK;
  }

  private sendObj(cl: Client, m: UbusMessage, o: Obj): void {
    if (!o.type) return;
    this.sendTo(cl, MsgType.DATA, m.seq, m.peer, [
      encodeString(Attr.OBJPATH, o.path!),
      encodeU32(Attr.OBJID, o.id),
      encodeU32(Attr.OBJTYPE, o.type.id),
      encodeNested(Attr.SIGNATURE, o.type.methods),
    ]);
  }

  private lookup(cl: Client, m: UbusMessage, a: ParsedAttrs): number {
    const sorted = () => [...this.paths.keys()].sort(strcmp);
    const path = a.str(Attr.OBJPATH);
    if (path === undefined) {
      for (const p of sorted()) this.sendObj(cl, m, this.paths.get(p)!);
      return UbusStatus.OK;
    }
    if (path.length === 0) return UbusStatus.INVALID_ARGUMENT;
    if (!path.endsWith('*')) {
      const o = this.paths.get(path);
      if (!o) return UbusStatus.NOT_FOUND;
      this.sendObj(cl, m, o);
      return UbusStatus.OK;
    }
    const prefix = path.slice(0, -1);
    const hits = sorted().filter((p) => p.startsWith(prefix));
    if (hits.length === 0) return UbusStatus.NOT_FOUND;
    for (const p of hits) this.sendObj(cl, m, this.paths.get(p)!);
    return UbusStatus.OK;
  }

  private invoke(cl: Client, m: UbusMessage, a: ParsedAttrs): number {
    const method = a.str(Attr.METHOD);
    const id = a.u32(Attr.OBJID);
    if (method === undefined || id === undefined) return UbusStatus.INVALID_ARGUMENT;
    const o = this.objects.get(id);
    if (!o) return UbusStatus.NOT_FOUND;
    if (!o.client) return this.eventRecv(cl, method, a.raw(Attr.DATA));
    this.forwardInvoke(cl, o, method, m.seq, a.raw(Attr.DATA), false);
    return NONE;
  }

  private forwardInvoke(cl: Client, o: Obj, method: string, seq: number, data: Buffer | undefined, noReply: boolean): void {
    const attrs: Buffer[] = [];
    if (noReply) attrs.push(encodeU8(Attr.NO_REPLY, 1));
    attrs.push(encodeU32(Attr.OBJID, o.id), encodeString(Attr.METHOD, method));
    attrs.push(encodeString(Attr.USER, cl.user), encodeString(Attr.GROUP, cl.group));
    if (data) attrs.push(encodeAttr(Attr.DATA, data));
    this.sendTo(o.client!, MsgType.INVOKE, seq, cl.id, attrs);
  }

  private response(cl: Client, m: UbusMessage, a: ParsedAttrs): number {
    const id = a.u32(Attr.OBJID);
    if (id === undefined) return NONE;
    if (m.type === MsgType.STATUS && !a.has(Attr.STATUS)) return NONE;
    if (m.type === MsgType.DATA && !a.has(Attr.DATA)) return NONE;
    const o = this.objects.get(id);
    if (!o || o.client !== cl) return NONE;
    const dest = this.clients.get(m.peer);
    if (!dest) return NONE;
    this.sendRaw(dest, encodeMessage(m.type, m.seq, id, [m.body]));
    return NONE;
  }

  /** The subscriber object named by OBJID (owned by cl) and the TARGET id, or a status. */
  private watchArgs(cl: Client, a: ParsedAttrs): { o: Obj; tid: number } | number {
    const id = a.u32(Attr.OBJID);
    const tid = a.u32(Attr.TARGET);
    if (id === undefined || tid === undefined) return UbusStatus.INVALID_ARGUMENT;
    const o = this.objects.get(id);
    if (!o) return UbusStatus.NOT_FOUND;
    if (o.client !== cl) return UbusStatus.INVALID_ARGUMENT;
    return { o, tid };
  }

  private addWatch(cl: Client, a: ParsedAttrs): number {
    const w = this.watchArgs(cl, a);
    if (typeof w === 'number') return w;
    const { o, tid } = w;
    const t = this.objects.get(tid);
    if (!t || !t.client) return UbusStatus.NOT_FOUND;
    if (t.client === cl) return UbusStatus.INVALID_ARGUMENT;
    this.subscribe(o, t);
    return UbusStatus.OK;
  }

  private removeWatch(cl: Client, a: ParsedAttrs): number {
    const w = this.watchArgs(cl, a);
    if (typeof w === 'number') return w;
    const { o, tid } = w;
    for (const t of o.targets) {
      if (t.id !== tid) continue;
      this.unsubscribe(o, t);
      return UbusStatus.OK;
    }
    return UbusStatus.NOT_FOUND;
  }

  private notify(cl: Client, m: UbusMessage, a: ParsedAttrs): number {
    const method = a.str(Attr.METHOD);
    const id = a.u32(Attr.OBJID);
    if (method === undefined || id === undefined) return UbusStatus.INVALID_ARGUMENT;
    const noReply = (a.u8(Attr.NO_REPLY) ?? 0) !== 0;
    const o = this.objects.get(id);
    if (!o) return UbusStatus.NOT_FOUND;
    if (o.client !== cl) return UbusStatus.PERMISSION_DENIED;
    if (!noReply) {
      const subs = [...o.subscribers].map((s) => encodeU32(0, s.id));
      this.sendTo(cl, MsgType.STATUS, m.seq, m.peer, [encodeU32(Attr.OBJID, o.id), encodeNested(Attr.SUBSCRIBERS, subs), encodeU32(Attr.STATUS, 0)]);
    }
    for (const s of o.subscribers) this.forwardInvoke(cl, s, method, m.seq, a.raw(Attr.DATA), noReply);
    return NONE;
  }

  // ---- events (ubusd_event.c) ----------------------------------------------------------------

  private eventRecv(cl: Client, method: string, data: Buffer | undefined): number {
    if (method === 'register') return this.registerPattern(cl, data);
    if (method === 'send') return this.forwardEvent(cl, data);
    return UbusStatus.INVALID_COMMAND;
  }

  private registerPattern(cl: Client, data: Buffer | undefined): number {
    if (!data) return UbusStatus.INVALID_ARGUMENT;
    const f = blobmsgParse(data, { object: BlobmsgType.INT32, pattern: BlobmsgType.STRING });
    if (!f?.object || !f.pattern) return UbusStatus.INVALID_ARGUMENT;
    const oid = f.object.readUInt32BE(0);
    const pattern = cstr(f.pattern);
    if (oid < UBUS_SYSTEM_OBJECT_MAX) return UbusStatus.PERMISSION_DENIED;
    const o = this.objects.get(oid);
    if (!o) return UbusStatus.NOT_FOUND;
    if (o.client !== cl) return UbusStatus.PERMISSION_DENIED;
    if (pattern.length === 0) return UbusStatus.PERMISSION_DENIED;
    const partial = pattern.endsWith('*');
    o.patterns.push({ key: partial ? pattern.slice(0, -1) : pattern, partial });
    return UbusStatus.OK;
  }

  private forwardEvent(cl: Client, data: Buffer | undefined): number {
    if (!data) return UbusStatus.INVALID_ARGUMENT;
    const f = blobmsgParse(data, { id: BlobmsgType.STRING, data: BlobmsgType.TABLE });
    if (!f?.id || !f.data) return UbusStatus.INVALID_ARGUMENT;
    const id = cstr(f.id);
    if (id.startsWith('ubus.')) return UbusStatus.PERMISSION_DENIED;
    this.sendEvent(cl, id, f.data);
    return UbusStatus.OK;
  }

  private sendEvent(sender: Client | null, id: string, payload: Buffer): void {
    this.objEventSeq++;
    const listeners = [...this.objects.values()].filter((o) => o.patterns.length > 0).sort((x, y) => x.id - y.id);
    for (const o of listeners) {
      const match = o.patterns.some((p) => id === p.key || (p.partial && id.startsWith(p.key)));
      if (!match || !o.client) continue;
      if (o.client === sender) continue; // do not loop back events
      if (o.eventSeen === this.objEventSeq) continue;
      o.eventSeen = this.objEventSeq;
      this.sendTo(o.client, MsgType.INVOKE, ++this.eventSeq, 0, [encodeU32(Attr.OBJID, o.id), encodeString(Attr.METHOD, id), encodeAttr(Attr.DATA, payload)]);
    }
  }

  private sendObjEvent(o: Obj, add: boolean): void {
    const payload = Buffer.concat([encodeValue('id', o.id | 0), encodeValue('path', o.path!)]);
    this.sendEvent(null, add ? 'ubus.object.add' : 'ubus.object.remove', payload);
  }
}

/** blobmsg_parse: the first field of each policy name with exactly the policy's type (raw value). */
function blobmsgParse(data: Buffer, policy: Record<string, number>): Record<string, Buffer | undefined> | null {
  const fields = fieldsOf(data);
  if (!fields.ok) return null;
  const out: Record<string, Buffer | undefined> = {};
  for (const { name, type, value } of fields.value) {
    if (Object.prototype.hasOwnProperty.call(policy, name) && policy[name] === type && !out[name]) out[name] = value;
  }
  return out;
}

const cstr = (b: Buffer): string => b.subarray(0, b.indexOf(0) < 0 ? b.length : b.indexOf(0)).toString();

function frameBytes(m: UbusMessage): Buffer {
  return encodeMessage(m.type, m.seq, m.peer, [m.body]);
}

function strcmp(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a), Buffer.from(b));
}

function emptyAttrs(): ParsedAttrs {
  const r = parseMessageAttrs(Buffer.alloc(0));
  if (!r.ok) throw new Error('unreachable');
  return r.value;
}
