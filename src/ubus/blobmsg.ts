// libubox blobmsg: blob attributes with the extended bit set, id = blobmsg type, payload =
// u16 BE name length, name, NUL, zero padding to a multiple of 4, then the value. JSON maps to
// it the way blobmsg_json.c does: integers in int32 range -> INT32, other integers -> INT64,
// other numbers -> DOUBLE, bool -> INT8, null -> UNSPEC. Decoding never throws.
import {
  type BlobAttr,
  type Result,
  BlobType,
  UBUS_MAX_MSGLEN,
  checkBlobType,
  cString,
  encodeAttr,
  fail,
  ok,
  padLen,
  readAttrAt,
} from './blob.ts';

export const BlobmsgType = {
  UNSPEC: 0,
  ARRAY: 1,
  TABLE: 2,
  STRING: 3,
  INT64: 4,
  INT32: 5,
  INT16: 6,
  INT8: 7,
  BOOL: 7,
  DOUBLE: 8,
} as const;
export type BlobmsgTypeId = (typeof BlobmsgType)[keyof typeof BlobmsgType];
const BLOBMSG_TYPE_LAST = 8;

/** Nesting deeper than this is refused (encode and decode) rather than recursed into. */
export const BLOBMSG_MAX_DEPTH = 64;

/** A number forced to one blobmsg integer/double type (JSON alone cannot say int16 or int64). */
export class BlobmsgTyped {
  constructor(
    readonly type: 'int8' | 'int16' | 'int32' | 'int64' | 'double',
    readonly value: number | bigint,
  ) {}
}
export const bm = {
  int8: (v: number) => new BlobmsgTyped('int8', v),
  int16: (v: number) => new BlobmsgTyped('int16', v),
  int32: (v: number) => new BlobmsgTyped('int32', v),
  int64: (v: number | bigint) => new BlobmsgTyped('int64', v),
  double: (v: number) => new BlobmsgTyped('double', v),
};

export type BlobmsgValue =
  | null
  | boolean
  | number
  | bigint
  | string
  | BlobmsgTyped
  | BlobmsgValue[]
  | { [key: string]: BlobmsgValue | undefined };
export type BlobmsgTable = { [key: string]: BlobmsgValue | undefined };

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

/** blobmsg_hdrlen: 2 + namelen + 1 rounded up to 4. */
export const blobmsgHdrLen = (nameBytes: number): number => padLen(2 + nameBytes + 1);

function nameHeader(name: string): Buffer {
  const nb = Buffer.from(name, 'utf8');
  if (nb.length > 0xffff) throw new RangeError('blobmsg name longer than 65535 bytes');
  const hdr = Buffer.alloc(blobmsgHdrLen(nb.length));
  hdr.writeUInt16BE(nb.length, 0);
  nb.copy(hdr, 2);
  return hdr;
}

/** One blobmsg attribute (header + name + value, padded). */
export function encodeField(type: number, name: string, value: Uint8Array): Buffer {
  return encodeAttr(type, Buffer.concat([nameHeader(name), value]), true);
}

function int64Bytes(v: bigint): Buffer {
  if (v < INT64_MIN || v > INT64_MAX) throw new RangeError(`${v} does not fit int64`);
  const b = Buffer.alloc(8);
  b.writeBigInt64BE(v, 0);
  return b;
}
function doubleBytes(v: number): Buffer {
  const b = Buffer.alloc(8);
  b.writeDoubleBE(v, 0);
  return b;
}
function int32Bytes(v: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(v >>> 0, 0);
  return b;
}

function encodeNumber(name: string, v: number): Buffer {
  if (Number.isInteger(v) && v >= -2147483648 && v <= 2147483647) return encodeField(BlobmsgType.INT32, name, int32Bytes(v));
  if (Number.isInteger(v) && v >= -(2 ** 63) && v < 2 ** 63) return encodeField(BlobmsgType.INT64, name, int64Bytes(BigInt(v)));
  return encodeField(BlobmsgType.DOUBLE, name, doubleBytes(v));
}

function encodeTyped(name: string, t: BlobmsgTyped): Buffer {
  const n = Number(t.value);
  switch (t.type) {
    case 'int8':
      return encodeField(BlobmsgType.INT8, name, Buffer.from([n & 0xff]));
    case 'int16': {
      const b = Buffer.alloc(2);
      b.writeUInt16BE(n & 0xffff, 0);
      return encodeField(BlobmsgType.INT16, name, b);
    }
    case 'int32':
      return encodeField(BlobmsgType.INT32, name, int32Bytes(n));
    case 'int64':
      return encodeField(BlobmsgType.INT64, name, int64Bytes(typeof t.value === 'bigint' ? t.value : BigInt(Math.trunc(n))));
    case 'double':
      return encodeField(BlobmsgType.DOUBLE, name, doubleBytes(n));
  }
}

/** Encodes one named value; undefined yields nothing (as JSON.stringify skips it). Throws on values JSON cannot hold. */
export function encodeValue(name: string, v: BlobmsgValue | undefined, depth = 0): Buffer {
  if (depth > BLOBMSG_MAX_DEPTH) throw new RangeError('blobmsg nesting too deep');
  if (v === undefined) return Buffer.alloc(0);
  if (v === null) return encodeField(BlobmsgType.UNSPEC, name, Buffer.alloc(0));
  if (v instanceof BlobmsgTyped) return encodeTyped(name, v);
  switch (typeof v) {
    case 'boolean':
      return encodeField(BlobmsgType.INT8, name, Buffer.from([v ? 1 : 0]));
    case 'number':
      return encodeNumber(name, v);
    case 'bigint':
      return encodeField(BlobmsgType.INT64, name, int64Bytes(v));
    case 'string':
      return encodeField(BlobmsgType.STRING, name, Buffer.concat([Buffer.from(v, 'utf8'), Buffer.from([0])]));
    case 'object':
      if (Array.isArray(v)) return encodeField(BlobmsgType.ARRAY, name, Buffer.concat(v.map((e) => encodeValue('', e === undefined ? null : e, depth + 1))));
      return encodeField(BlobmsgType.TABLE, name, encodeTableBody(v, depth + 1));
    default:
      throw new TypeError(`cannot encode a ${typeof v} as blobmsg`);
  }
}

/** The children of a table (what ubus carries inside a DATA attribute). */
export function encodeTableBody(obj: BlobmsgTable, depth = 0): Buffer {
  const parts: Buffer[] = [];
  for (const [k, v] of Object.entries(obj)) parts.push(encodeValue(k, v, depth));
  return Buffer.concat(parts);
}

export interface BlobmsgField {
  type: number;
  name: string;
  /** Value bytes, after the name header, unpadded. */
  value: Buffer;
}

/** Splits a blobmsg attribute into type, name and value, with blobmsg_check_attr's rules. */
export function readField(attr: BlobAttr): Result<BlobmsgField> {
  if (!attr.extended) return fail('blobmsg attribute without the extended bit');
  if (attr.id > BLOBMSG_TYPE_LAST) return fail(`unknown blobmsg type ${attr.id}`);
  if (attr.data.length < 2) return fail('blobmsg attribute too short for its name header');
  const namelen = attr.data.readUInt16BE(0);
  const hdrlen = blobmsgHdrLen(namelen);
  if (attr.data.length < hdrlen) return fail('blobmsg name overruns its attribute');
  if (attr.data[2 + namelen] !== 0) return fail('blobmsg name not NUL-terminated');
  const value = attr.data.subarray(hdrlen);
  const blobType = BLOB_TYPE_OF[attr.id];
  if (blobType !== undefined && !checkBlobType(value, blobType)) return fail(`bad value length ${value.length} for blobmsg type ${attr.id}`);
  return ok({ type: attr.id, name: attr.data.subarray(2, 2 + namelen).toString('utf8'), value });
}

// blobmsg.c blob_type[]: which plain blob check applies to each blobmsg type.
const BLOB_TYPE_OF: Record<number, number | undefined> = {
  [BlobmsgType.UNSPEC]: BlobType.BINARY,
  [BlobmsgType.STRING]: BlobType.STRING,
  [BlobmsgType.INT64]: BlobType.INT64,
  [BlobmsgType.INT32]: BlobType.INT32,
  [BlobmsgType.INT16]: BlobType.INT16,
  [BlobmsgType.INT8]: BlobType.INT8,
  [BlobmsgType.DOUBLE]: BlobType.DOUBLE,
};

/** The fields of a table or array body, each checked as blobmsg_check_attr does. */
export function fieldsOf(buf: Buffer): Result<BlobmsgField[]> {
  const out: BlobmsgField[] = [];
  let off = 0;
  while (off < buf.length) {
    const r = readAttrAt(buf, off, buf.length);
    if (!r.ok) return r;
    const f = readField(r.value.attr);
    if (!f.ok) return f;
    out.push(f.value);
    off = r.value.next;
  }
  return ok(out);
}

function decodeFieldValue(f: BlobmsgField, depth: number): Result<BlobmsgValue> {
  const v = f.value;
  switch (f.type) {
    case BlobmsgType.UNSPEC:
      return ok(null);
    case BlobmsgType.INT8:
      return ok(v[0] !== 0);
    case BlobmsgType.INT16:
      return ok(v.readInt16BE(0));
    case BlobmsgType.INT32:
      return ok(v.readInt32BE(0));
    case BlobmsgType.INT64: {
      const big = v.readBigInt64BE(0);
      const n = Number(big);
      return ok(Number.isSafeInteger(n) ? n : big);
    }
    case BlobmsgType.DOUBLE:
      return ok(v.readDoubleBE(0));
    case BlobmsgType.STRING:
      return ok(cString(v));
    case BlobmsgType.ARRAY:
      return decodeList(v, true, depth + 1);
    case BlobmsgType.TABLE:
      return decodeList(v, false, depth + 1);
    default:
      return fail(`unknown blobmsg type ${f.type}`);
  }
}

function decodeList(buf: Buffer, array: boolean, depth: number): Result<BlobmsgValue> {
  if (depth > BLOBMSG_MAX_DEPTH) return fail('blobmsg nesting too deep');
  const fields = fieldsOf(buf);
  if (!fields.ok) return fields;
  if (array) {
    const arr: BlobmsgValue[] = [];
    for (const f of fields.value) {
      const d = decodeFieldValue(f, depth);
      if (!d.ok) return d;
      arr.push(d.value);
    }
    return ok(arr);
  }
  const obj: BlobmsgTable = {};
  for (const f of fields.value) {
    const d = decodeFieldValue(f, depth);
    if (!d.ok) return d;
    // First occurrence wins, as blobmsg_parse; defineProperty keeps "__proto__" a plain key.
    if (!Object.prototype.hasOwnProperty.call(obj, f.name)) {
      Object.defineProperty(obj, f.name, { value: d.value, enumerable: true, writable: true, configurable: true });
    }
  }
  return ok(obj);
}

/** Decodes the children of a table (e.g. a ubus DATA attribute's payload) into a JSON-like object. */
export function decodeTableBody(buf: Buffer): Result<BlobmsgTable> {
  if (buf.length > UBUS_MAX_MSGLEN) return fail(`blobmsg data of ${buf.length} bytes exceeds ${UBUS_MAX_MSGLEN}`);
  const r = decodeList(buf, false, 0);
  return r.ok ? ok(r.value as BlobmsgTable) : r;
}

/** Decodes the elements of an array body. */
export function decodeArrayBody(buf: Buffer): Result<BlobmsgValue[]> {
  if (buf.length > UBUS_MAX_MSGLEN) return fail(`blobmsg data of ${buf.length} bytes exceeds ${UBUS_MAX_MSGLEN}`);
  const r = decodeList(buf, true, 0);
  return r.ok ? ok(r.value as BlobmsgValue[]) : r;
}

/** Decodes one complete blobmsg attribute (header included) into [name, value]. */
export function decodeField(buf: Buffer): Result<[string, BlobmsgValue]> {
  if (buf.length > UBUS_MAX_MSGLEN + 4) return fail('blobmsg attribute exceeds the message limit');
  const a = readAttrAt(buf, 0, buf.length);
  if (!a.ok) return a;
  const f = readField(a.value.attr);
  if (!f.ok) return f;
  const v = decodeFieldValue(f.value, 0);
  return v.ok ? ok([f.value.name, v.value]) : v;
}

/** JSON text -> table body, as blobmsg_add_json_from_string (the top level must be an object). */
export function jsonToBlobmsg(text: string): Result<Buffer> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (e) {
    return fail(`invalid JSON: ${(e as Error).message}`);
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) return fail('JSON top level must be an object');
  try {
    return ok(encodeTableBody(parsed as BlobmsgTable));
  } catch (e) {
    return fail((e as Error).message);
  }
}

/** Table body -> JSON text (int64 beyond 2^53 printed exactly, as libubox prints PRId64). */
export function blobmsgToJson(buf: Buffer): Result<string> {
  const r = decodeTableBody(buf);
  if (!r.ok) return r;
  return ok(stringifyBlobmsg(r.value));
}

export function stringifyBlobmsg(v: BlobmsgValue | undefined, indent?: string | number): string {
  const marker = '\u0000int64:';
  const s = JSON.stringify(
    v,
    (_k, x: unknown) => (typeof x === 'bigint' ? marker + x.toString() : x instanceof BlobmsgTyped ? (typeof x.value === 'bigint' ? marker + x.value.toString() : x.value) : x),
    indent,
  );
  return s.replace(/"\\u0000int64:(-?\d+)"/g, '$1');
}
