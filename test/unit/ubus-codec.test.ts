// blob / blobmsg / ubus frame codec. The hex vectors below were written by hand from libubox's
// rules (blob.h, blobmsg.h: header = extended bit | id << 24 | length incl. header; name header
// u16 BE length + name + NUL padded to 4; payload padded to 4), not produced by our encoder.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { UBUS_MAX_MSGLEN, encodeAttr, parseAttrs } from '../../src/ubus/blob.ts';
import {
  BLOBMSG_MAX_DEPTH,
  type BlobmsgTable,
  blobmsgToJson,
  bm,
  decodeArrayBody,
  decodeField,
  decodeTableBody,
  encodeTableBody,
  encodeValue,
  jsonToBlobmsg,
} from '../../src/ubus/blobmsg.ts';
import { Attr, FrameReader, MsgType, encodeMessage, parseMessageAttrs } from '../../src/ubus/message.ts';
import { encodeString, encodeU32 } from '../../src/ubus/blob.ts';
import { prng } from '../helpers/prng.ts';

const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex');
const toHex = (b: Buffer) => b.toString('hex');

const VECTORS: [string, BlobmsgTable, string][] = [
  ['string', { a: 'b' }, '8300000a 00016100 62000000'],
  ['int32', { n: 1 }, '8500000c 00016e00 00000001'],
  ['int32 negative', { k: -1 }, '8500000c 00016b00 ffffffff'],
  ['bool true as int8', { t: true }, '87000009 00017400 01000000'],
  ['bool false as int8', { f: false }, '87000009 00016600 00000000'],
  ['int64 beyond int32', { big: 4294967296 }, '84000014 00036269 67000000 00000001 00000000'],
  ['int64 below int32', { m: -2147483649 }, '84000010 00016d00 ffffffff 7fffffff'],
  ['int32 max stays int32', { m: 2147483647 }, '8500000c 00016d00 7fffffff'],
  ['int32 min stays int32', { m: -2147483648 }, '8500000c 00016d00 80000000'],
  ['double', { d: 1.5 }, '88000010 00016400 3ff80000 00000000'],
  ['null as unspec', { z: null }, '80000008 00017a00'],
  ['two-byte name pads to 8', { ab: 'x' }, '8300000e 00026162 00000000 78000000'],
  ['empty string', { e: '' }, '83000009 00016500 00000000'],
  ['array of int and string', { l: [1, 'x'] }, '81000020 00016c00 8500000c 00000000 00000001 8300000a 00000000 78000000'],
  ['nested table', { t: { k: -1 } }, '82000014 00017400 8500000c 00016b00 ffffffff'],
  ['empty table', { t: {} }, '82000008 00017400'],
  ['empty array', { l: [] }, '81000008 00016c00'],
  ['two fields in order', { a: 1, b: 'c' }, '8500000c 00016100 00000001 8300000a 00016200 63000000'],
];

describe('blobmsg encoding, byte-exact', () => {
  for (const [name, value, expect] of VECTORS) {
    it(name, () => {
      assert.equal(toHex(encodeTableBody(value)), toHex(hex(expect)));
      const back = decodeTableBody(hex(expect));
      assert.ok(back.ok, back.ok ? '' : back.error);
      assert.deepEqual(back.value, value);
    });
  }
  it('typed int16 and int8', () => {
    assert.equal(toHex(encodeValue('s', bm.int16(-2))), '8600000a00017300fffe0000');
    assert.equal(toHex(encodeValue('b', bm.int8(5))), '870000090001620005000000');
    const r = decodeTableBody(encodeValue('s', bm.int16(-2)));
    assert.ok(r.ok);
    assert.deepEqual(r.value, { s: -2 });
  });
  it('int64 beyond 2^53 round-trips as bigint and prints exactly', () => {
    const big = 2n ** 62n + 1n;
    const body = encodeValue('x', big);
    assert.equal(toHex(body), '840000100001780040000000' + '00000001');
    const j = blobmsgToJson(body);
    assert.ok(j.ok);
    assert.equal(j.value, `{"x":${big}}`);
  });
  it('undefined members are skipped like JSON.stringify', () => {
    assert.equal(toHex(encodeTableBody({ a: undefined, n: 1 })), toHex(hex('8500000c 00016e00 00000001')));
  });
});

describe('ubus frames, byte-exact', () => {
  it('HELLO as ubusd sends it', () => {
    assert.equal(toHex(encodeMessage(MsgType.HELLO, 0, 0x12345678, [])), '0000000012345678' + '00000004');
  });
  it('INVOKE of `ubus call wanbond status` as libubus sends it', () => {
    const f = encodeMessage(MsgType.INVOKE, 1, 0xdeadbeef, [encodeU32(Attr.OBJID, 0xdeadbeef), encodeString(Attr.METHOD, 'status'), encodeAttr(Attr.DATA, Buffer.alloc(0))]);
    assert.equal(toHex(f), toHex(hex('00 05 0001 deadbeef  0000001c  03000008 deadbeef  0400000b 73746174 757300 00  07000004')));
  });
  it('parses message attributes and drops ones of the wrong type (blob_parse_untrusted)', () => {
    const body = Buffer.concat([encodeU32(Attr.OBJID, 7), encodeString(Attr.STATUS, 'no')]);
    const r = parseMessageAttrs(body);
    assert.ok(r.ok);
    assert.equal(r.value.u32(Attr.OBJID), 7);
    assert.equal(r.value.has(Attr.STATUS), false);
  });
});

describe('JSON <-> blobmsg', () => {
  it('round-trips JSON through blobmsg', () => {
    const doc = { s: 'wan', i: 5, neg: -7, big: 1e12, f: 0.25, t: true, n: null, a: [1, [2, { x: 'y' }], []], o: { p: { q: 'r' } }, u: 'ünïcødé' };
    const b = jsonToBlobmsg(JSON.stringify(doc));
    assert.ok(b.ok);
    const j = blobmsgToJson(b.value);
    assert.ok(j.ok);
    assert.deepEqual(JSON.parse(j.value), doc);
  });
  it('blobmsg -> JSON -> blobmsg gives the same bytes', () => {
    for (const [, , h] of VECTORS) {
      const j = blobmsgToJson(hex(h));
      assert.ok(j.ok);
      const b = jsonToBlobmsg(j.value);
      assert.ok(b.ok);
      assert.equal(toHex(b.value), toHex(hex(h)));
    }
  });
  it('refuses a JSON top level that is not an object', () => {
    assert.equal(jsonToBlobmsg('[1]').ok, false);
    assert.equal(jsonToBlobmsg('nope').ok, false);
  });
  it('keeps "__proto__" as a plain key and the first of duplicate keys', () => {
    const body = Buffer.concat([encodeValue('__proto__', 'x'), encodeValue('k', 1), encodeValue('k', 2)]);
    const r = decodeTableBody(body);
    assert.ok(r.ok);
    assert.equal(Object.getPrototypeOf(r.value), Object.prototype);
    assert.equal(Object.getOwnPropertyDescriptor(r.value, '__proto__')?.value, 'x');
    assert.equal(r.value.k, 1);
  });
});

describe('malformed input gives an error value', () => {
  const bad: [string, Buffer][] = [
    ['truncated header', hex('830000')],
    ['length below header', hex('83000002 00000000')],
    ['length overruns buffer', hex('83000040 00016100 62000000')],
    ['unknown blobmsg type 9', hex('89000008 00016100')],
    ['type 0x7f', hex('ff000008 00016100')],
    ['plain attr inside a table', hex('0300000a 00016100 62000000')],
    ['string without NUL', hex('8300000a 00016100 62630000'.replace('62630000', '62630000')).subarray(0, 12).fill(0x63, 8, 10)],
    ['int32 of 3 bytes', hex('8500000b 00016e00 00000100')],
    ['int8 of 2 bytes', hex('8700000a 00016e00 01010000')],
    ['double of 4 bytes', hex('8800000c 00016e00 00000000')],
    ['name not NUL-terminated', hex('8300000c 00026162 61000000')],
    ['name longer than attribute', hex('83000008 00ff6100')],
    ['attribute shorter than name header', hex('83000005 00000000')],
  ];
  for (const [name, buf] of bad) {
    it(name, () => {
      const r = decodeTableBody(buf);
      assert.equal(r.ok, false, `${name} decoded: ${JSON.stringify(r)}`);
    });
  }
  it('nesting deeper than the limit', () => {
    let body: Buffer = encodeValue('x', 1);
    for (let i = 0; i < BLOBMSG_MAX_DEPTH + 2; i++) body = encodeAttr(2, Buffer.concat([hex('00017400'), body]), true);
    const r = decodeTableBody(body);
    assert.equal(r.ok, false);
    assert.match(r.ok ? '' : r.error, /deep/);
    assert.throws(() => encodeTableBody(deepObject(BLOBMSG_MAX_DEPTH + 2)), /too deep/);
  });
  it('more than 1 MiB of data', () => {
    const r = decodeTableBody(Buffer.alloc(UBUS_MAX_MSGLEN + 4));
    assert.equal(r.ok, false);
  });
  it('bad frames: version, short root, over the limit', () => {
    const fr = () => new FrameReader();
    assert.equal(fr().push(hex('0100000000000001 00000004')).ok, false);
    assert.equal(fr().push(hex('0000000000000001 00000002')).ok, false);
    const over = Buffer.alloc(12);
    over.writeUInt32BE(UBUS_MAX_MSGLEN + 1, 8);
    assert.equal(fr().push(over).ok, false);
    const at = Buffer.alloc(12);
    at.writeUInt32BE(UBUS_MAX_MSGLEN, 8);
    const r = fr().push(at);
    assert.ok(r.ok);
    assert.equal(r.value.length, 0); // waits for the rest
  });
});

function deepObject(n: number): BlobmsgTable {
  let o: BlobmsgTable = { x: 1 };
  for (let i = 0; i < n; i++) o = { t: o };
  return o;
}


describe('decoder fuzz (seeded)', () => {
  it('never throws on mutated and random input; valid input still decodes', () => {
    const rnd = prng(0x5eed);
    const seeds: Buffer[] = [...VECTORS.map(([, , h]) => hex(h)), encodeTableBody({ deep: deepObject(10), l: [1, 'two', 3.5, null, true, [4]] })];
    let errors = 0;
    let oks = 0;
    for (let i = 0; i < 20000; i++) {
      const base = seeds[Math.floor(rnd() * seeds.length)]!;
      let buf = Buffer.from(base);
      const op = Math.floor(rnd() * 4);
      if (op === 0) {
        for (let k = 0; k < 1 + rnd() * 4 && buf.length > 0; k++) {
          const at = Math.floor(rnd() * buf.length);
          buf[at] = buf[at]! ^ (1 << Math.floor(rnd() * 8));
        }
      }
      else if (op === 1) buf = buf.subarray(0, Math.floor(rnd() * buf.length));
      else if (op === 2) buf = Buffer.from(Array.from({ length: Math.floor(rnd() * 64) }, () => Math.floor(rnd() * 256)));
      else buf = Buffer.concat([buf, buf.subarray(0, Math.floor(rnd() * buf.length))]);
      for (const decode of [decodeTableBody, decodeArrayBody, decodeField, parseAttrs] as ((b: Buffer) => { ok: boolean })[]) {
        const r = decode(buf);
        if (r.ok) oks++;
        else errors++;
      }
    }
    assert.ok(errors > 1000 && oks > 1000, `errors ${errors} oks ${oks}`);
  });
  it('frame reader yields the same frames whatever the read boundaries', () => {
    const rnd = prng(42);
    const frames = [
      encodeMessage(MsgType.HELLO, 0, 1234, []),
      encodeMessage(MsgType.DATA, 7, 99, [encodeU32(Attr.OBJID, 99), encodeAttr(Attr.DATA, encodeTableBody({ a: 'x'.repeat(300) }))]),
      encodeMessage(MsgType.STATUS, 7, 99, [encodeU32(Attr.STATUS, 0), encodeU32(Attr.OBJID, 99)]),
    ];
    const stream = Buffer.concat(frames);
    for (let round = 0; round < 200; round++) {
      const r = new FrameReader();
      const got: Buffer[] = [];
      let off = 0;
      while (off < stream.length) {
        const n = 1 + Math.floor(rnd() * 40);
        const res = r.push(stream.subarray(off, off + n));
        assert.ok(res.ok);
        for (const m of res.value) got.push(encodeMessage(m.type, m.seq, m.peer, [m.body]));
        off += n;
      }
      assert.deepEqual(got.map(toHex), frames.map(toHex));
    }
  });
});
