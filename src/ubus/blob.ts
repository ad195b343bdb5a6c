// libubox blob TLVs: a big-endian u32 header (bit 31 extended flag, bits 30..24 id, bits 23..0
// length including the 4-byte header), payload zero-padded to a multiple of 4. A parent's length
// counts its children's padding. Decoding never throws: bad input yields { ok: false, error }.

export type Result<T> = { ok: true; value: T } | { ok: false; error: string };
export const ok = <T>(value: T): Result<T> => ({ ok: true, value });
export const fail = <T = never>(error: string): Result<T> => ({ ok: false, error });

export const BLOB_ATTR_EXTENDED = 0x80000000;
export const BLOB_ATTR_ID_MASK = 0x7f000000;
export const BLOB_ATTR_ID_SHIFT = 24;
export const BLOB_ATTR_LEN_MASK = 0x00ffffff;
export const BLOB_HDR_LEN = 4;
/** UBUS_MAX_MSGLEN: the largest padded root attribute ubusd and libubus accept. */
export const UBUS_MAX_MSGLEN = 1048576;

/** Plain blob payload types (libubox enum blob_attr type, used by ubus message policies). */
export const BlobType = {
  UNSPEC: 0,
  NESTED: 1,
  BINARY: 2,
  STRING: 3,
  INT8: 4,
  INT16: 5,
  INT32: 6,
  INT64: 7,
  DOUBLE: 8,
} as const;

export interface BlobAttr {
  id: number;
  extended: boolean;
  /** The payload, without header and without padding. */
  data: Buffer;
}

export const padLen = (n: number): number => (n + 3) & ~3;

/** One attribute: header, payload, zero padding. */
export function encodeAttr(id: number, payload: Uint8Array, extended = false): Buffer {
  const raw = BLOB_HDR_LEN + payload.length;
  if (raw > BLOB_ATTR_LEN_MASK) throw new RangeError(`blob attribute too long (${raw} bytes)`);
  const out = Buffer.alloc(padLen(raw));
  const hdr = ((extended ? BLOB_ATTR_EXTENDED : 0) | ((id << BLOB_ATTR_ID_SHIFT) & BLOB_ATTR_ID_MASK) | raw) >>> 0;
  out.writeUInt32BE(hdr, 0);
  out.set(payload, BLOB_HDR_LEN);
  return out;
}

export const encodeU8 = (id: number, v: number): Buffer => encodeAttr(id, Buffer.from([v & 0xff]));
export function encodeU32(id: number, v: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(v >>> 0, 0);
  return encodeAttr(id, b);
}
export const encodeString = (id: number, s: string): Buffer => encodeAttr(id, Buffer.concat([Buffer.from(s, 'utf8'), Buffer.from([0])]));
/** A nested attribute whose payload is already-encoded (padded) children. */
export const encodeNested = (id: number, children: Uint8Array[]): Buffer => encodeAttr(id, Buffer.concat(children));

/** Reads one header at `off` of `buf`, checking it fits in `end`. */
export function readAttrAt(buf: Buffer, off: number, end: number): Result<{ attr: BlobAttr; next: number }> {
  if (end - off < BLOB_HDR_LEN) return fail(`truncated blob header at offset ${off}`);
  const hdr = buf.readUInt32BE(off);
  const raw = hdr & BLOB_ATTR_LEN_MASK;
  if (raw < BLOB_HDR_LEN) return fail(`blob attribute length ${raw} below header size at offset ${off}`);
  const padded = padLen(raw);
  // The last attribute of a list may end unpadded only when the list itself is unpadded; libubox
  // iterates by padded length, so we require the padded length to fit, as it does.
  if (padded > end - off) return fail(`blob attribute length ${raw} overruns its container at offset ${off}`);
  return ok({
    attr: {
      id: (hdr & BLOB_ATTR_ID_MASK) >>> BLOB_ATTR_ID_SHIFT,
      extended: (hdr & BLOB_ATTR_EXTENDED) !== 0,
      data: buf.subarray(off + BLOB_HDR_LEN, off + raw),
    },
    next: off + padded,
  });
}

/** All attributes in a byte run (the payload of a nested attribute). */
export function parseAttrs(buf: Buffer): Result<BlobAttr[]> {
  const out: BlobAttr[] = [];
  let off = 0;
  while (off < buf.length) {
    const r = readAttrAt(buf, off, buf.length);
    if (!r.ok) return r;
    out.push(r.value.attr);
    off = r.value.next;
  }
  return ok(out);
}

/** libubox blob_check_type: exact sizes for integers, minimum sizes otherwise, strings NUL-ended. */
export function checkBlobType(data: Buffer, type: number): boolean {
  switch (type) {
    case BlobType.INT8:
      return data.length === 1;
    case BlobType.INT16:
      return data.length === 2;
    case BlobType.INT32:
      return data.length === 4;
    case BlobType.INT64:
      return data.length === 8;
    case BlobType.DOUBLE:
      return data.length >= 8;
    case BlobType.STRING:
      return data.length >= 1 && data[data.length - 1] === 0;
    case BlobType.UNSPEC:
    case BlobType.NESTED:
    case BlobType.BINARY:
      return true;
    default:
      return false;
  }
}

/** A C string payload: the bytes up to the first NUL. */
export function cString(data: Buffer): string {
  const nul = data.indexOf(0);
  return data.subarray(0, nul < 0 ? data.length : nul).toString('utf8');
}
