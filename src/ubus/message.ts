// ubus frames (ubusmsg.h): an 8-byte header {u8 version=0, u8 type, u16 BE seq, u32 BE peer}
// followed by one root blob attribute (id 0) whose children are the message attributes.
import {
  type BlobAttr,
  type Result,
  BLOB_ATTR_LEN_MASK,
  BlobType,
  UBUS_MAX_MSGLEN,
  checkBlobType,
  cString,
  encodeAttr,
  fail,
  ok,
  padLen,
  parseAttrs,
} from './blob.ts';

export const MsgType = {
  HELLO: 0,
  STATUS: 1,
  DATA: 2,
  PING: 3,
  LOOKUP: 4,
  INVOKE: 5,
  ADD_OBJECT: 6,
  REMOVE_OBJECT: 7,
  SUBSCRIBE: 8,
  UNSUBSCRIBE: 9,
  NOTIFY: 10,
  MONITOR: 11,
} as const;
export const MSG_TYPE_LAST = 12;

export const Attr = {
  UNSPEC: 0,
  STATUS: 1,
  OBJPATH: 2,
  OBJID: 3,
  METHOD: 4,
  OBJTYPE: 5,
  SIGNATURE: 6,
  DATA: 7,
  TARGET: 8,
  ACTIVE: 9,
  NO_REPLY: 10,
  SUBSCRIBERS: 11,
  USER: 12,
  GROUP: 13,
} as const;
export const ATTR_MAX = 14;

export const UbusStatus = {
  OK: 0,
  INVALID_COMMAND: 1,
  INVALID_ARGUMENT: 2,
  METHOD_NOT_FOUND: 3,
  NOT_FOUND: 4,
  NO_DATA: 5,
  PERMISSION_DENIED: 6,
  TIMEOUT: 7,
  NOT_SUPPORTED: 8,
  UNKNOWN_ERROR: 9,
  CONNECTION_FAILED: 10,
  NO_MEMORY: 11,
  PARSE_ERROR: 12,
  SYSTEM_ERROR: 13,
} as const;

// libubus ubus_strerror texts, so our errors read like `ubus call`'s.
const STATUS_TEXT = [
  'Success',
  'Invalid command',
  'Invalid argument',
  'Method not found',
  'Not found',
  'No response',
  'Permission denied',
  'Request timed out',
  'Operation not supported',
  'Unknown error',
  'Connection failed',
  'Out of memory',
  'Parsing message data failed',
  'System error',
];
export const statusText = (code: number): string => STATUS_TEXT[code] ?? `Unknown error: ${code}`;

export class UbusError extends Error {
  constructor(
    readonly status: number,
    detail?: string,
  ) {
    super(detail ? `${statusText(status)}: ${detail}` : statusText(status));
    this.name = 'UbusError';
  }
}

export const UBUS_SYSTEM_OBJECT_EVENT = 1;
export const UBUS_SYSTEM_OBJECT_MAX = 1024;
export const UBUS_CLIENT_ID_CHANNEL = 1;
export const MSG_HDR_LEN = 8;

export interface UbusHeader {
  version: number;
  type: number;
  seq: number;
  peer: number;
}

export interface UbusMessage extends UbusHeader {
  /** The root attribute's payload: the message attributes, encoded. */
  body: Buffer;
}

/**
 * One frame: header + root attr wrapping the already-encoded attributes. Like ubus_send_msg it
 * sends blob_raw_len(root) bytes: no padding after the root (receivers read exactly that much).
 */
export function encodeMessage(type: number, seq: number, peer: number, attrs: Buffer[]): Buffer {
  const body = Buffer.concat(attrs);
  const root = encodeAttr(0, body).subarray(0, 4 + body.length);
  const out = Buffer.alloc(MSG_HDR_LEN + root.length);
  out.writeUInt8(0, 0);
  out.writeUInt8(type, 1);
  out.writeUInt16BE(seq & 0xffff, 2);
  out.writeUInt32BE(peer >>> 0, 4);
  root.copy(out, MSG_HDR_LEN);
  return out;
}

/** ubus_validate_hdr for the 12 bytes (header + root blob header) every frame starts with. */
export function checkFrameStart(hdr: Buffer): Result<number> {
  if (hdr.length < MSG_HDR_LEN + 4) return fail('short frame header');
  if (hdr[0] !== 0) return fail(`unsupported ubus message version ${hdr[0]}`);
  const raw = hdr.readUInt32BE(MSG_HDR_LEN) & BLOB_ATTR_LEN_MASK;
  if (raw < 4) return fail(`root blob length ${raw} below header size`);
  if (padLen(raw) > UBUS_MAX_MSGLEN) return fail(`message of ${padLen(raw)} bytes exceeds UBUS_MAX_MSGLEN ${UBUS_MAX_MSGLEN}`);
  return ok(raw);
}

// The attribute policy of ubus_parse_msg (libubus-io.c and ubusd_proto.c merged): an attribute of
// the wrong type is dropped, as blob_parse_untrusted drops it.
const POLICY: Record<number, number> = {
  [Attr.STATUS]: BlobType.INT32,
  [Attr.OBJPATH]: BlobType.STRING,
  [Attr.OBJID]: BlobType.INT32,
  [Attr.METHOD]: BlobType.STRING,
  [Attr.OBJTYPE]: BlobType.INT32,
  [Attr.SIGNATURE]: BlobType.NESTED,
  [Attr.TARGET]: BlobType.INT32,
  [Attr.ACTIVE]: BlobType.INT8,
  [Attr.NO_REPLY]: BlobType.INT8,
  [Attr.SUBSCRIBERS]: BlobType.NESTED,
  [Attr.USER]: BlobType.STRING,
  [Attr.GROUP]: BlobType.STRING,
};

export class ParsedAttrs {
  constructor(private readonly map: Map<number, BlobAttr>) {}
  has(id: number): boolean {
    return this.map.has(id);
  }
  raw(id: number): Buffer | undefined {
    return this.map.get(id)?.data;
  }
  u32(id: number): number | undefined {
    const a = this.map.get(id);
    return a ? a.data.readUInt32BE(0) : undefined;
  }
  u8(id: number): number | undefined {
    const a = this.map.get(id);
    return a ? a.data[0] : undefined;
  }
  str(id: number): string | undefined {
    const a = this.map.get(id);
    return a ? cString(a.data) : undefined;
  }
}

export function parseMessageAttrs(body: Buffer): Result<ParsedAttrs> {
  const attrs = parseAttrs(body);
  if (!attrs.ok) return attrs;
  const map = new Map<number, BlobAttr>();
  for (const a of attrs.value) {
    if (a.id >= ATTR_MAX) continue;
    const t = POLICY[a.id];
    if (t !== undefined && !checkBlobType(a.data, t)) continue;
    map.set(a.id, a);
  }
  return ok(new ParsedAttrs(map));
}

/**
 * Reassembles frames from a byte stream split at arbitrary points. A malformed header is fatal
 * for the stream (ubusd and libubus drop the connection); push() then returns the error.
 */
export class FrameReader {
  private chunks: Buffer[] = [];
  private size = 0;
  private need = 0; // total bytes of the frame in progress, once its header is known

  push(chunk: Buffer): Result<UbusMessage[]> {
    this.chunks.push(chunk);
    this.size += chunk.length;
    const out: UbusMessage[] = [];
    for (;;) {
      if (this.need === 0) {
        if (this.size < MSG_HDR_LEN + 4) break;
        const start = this.peek(MSG_HDR_LEN + 4);
        const raw = checkFrameStart(start);
        if (!raw.ok) return raw;
        this.need = MSG_HDR_LEN + raw.value;
      }
      if (this.size < this.need) break;
      const frame = this.take(this.need);
      this.need = 0;
      out.push({
        version: frame[0]!,
        type: frame[1]!,
        seq: frame.readUInt16BE(2),
        peer: frame.readUInt32BE(4),
        body: frame.subarray(MSG_HDR_LEN + 4),
      });
    }
    return ok(out);
  }

  private peek(n: number): Buffer {
    if (this.chunks[0]!.length < n) this.chunks = [Buffer.concat(this.chunks)];
    return this.chunks[0]!.subarray(0, n);
  }

  private take(n: number): Buffer {
    if (this.chunks[0]!.length < n) this.chunks = [Buffer.concat(this.chunks)];
    const head = this.chunks[0]!;
    const frame = head.subarray(0, n);
    if (head.length === n) this.chunks.shift();
    else this.chunks[0] = head.subarray(n);
    this.size -= n;
    return frame;
  }
}
