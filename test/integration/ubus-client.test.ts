// The native ubus client against the TEST DOUBLE of ubusd (test/doubles/ubusd/broker.ts, which
// follows ubusd's source; ubusd itself cannot be installed here), over real unix sockets.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { UBUS_MAX_MSGLEN, encodeAttr, encodeString, encodeU32 } from '../../src/ubus/blob.ts';
import { type BlobmsgTable, BlobmsgType, encodeTableBody, encodeValue } from '../../src/ubus/blobmsg.ts';
import { UbusClient, UbusError, UbusStatus } from '../../src/ubus/client.ts';
import { Attr, FrameReader, MsgType, type UbusMessage, encodeMessage, parseMessageAttrs } from '../../src/ubus/message.ts';
import { TestUbusd } from '../doubles/ubusd/broker.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
async function until<T>(fn: () => T | undefined | null | false | Promise<T | undefined | null | false>, ms = 5000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error('condition not reached in time');
    await sleep(10);
  }
}

/** A client speaking raw frames, to look at bytes and to misbehave. */
class RawClient {
  sock!: net.Socket;
  id = 0;
  readonly frames: UbusMessage[] = [];
  closed = false;
  async connect(path: string): Promise<void> {
    const reader = new FrameReader();
    this.sock = net.createConnection(path);
    this.sock.on('data', (c: Buffer) => {
      const r = reader.push(c);
      if (r.ok) this.frames.push(...r.value);
    });
    this.sock.on('close', () => (this.closed = true));
    this.sock.on('error', () => undefined);
    const hello = await until(() => this.frames[0]);
    assert.equal(hello.type, MsgType.HELLO);
    this.id = hello.peer;
  }
}

describe('ubus client against the ubusd test double', () => {
  let dir: string;
  let path: string;
  let ubusd: TestUbusd;
  const clients: UbusClient[] = [];
  const client = async () => {
    const c = new UbusClient({ socketPath: path, minBackoffMs: 20, maxBackoffMs: 200 });
    await c.connect();
    clients.push(c);
    return c;
  };

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'wanbond-ubus-'));
    path = join(dir, 'ubus.sock');
    ubusd = new TestUbusd(path);
    await ubusd.start();
  });
  after(async () => {
    for (const c of clients) await c.close();
    await ubusd.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('reads HELLO: a client id >= 1024', async () => {
    const c = await client();
    assert.ok(c.localId >= 1024, `id ${c.localId}`);
  });

  it('lookup: all in path order, exact, trailing-* prefix, not found; ids >= 1024 and signatures', async () => {
    const srv = await client();
    const sig = { status: {}, up: { force: BlobmsgType.BOOL } };
    for (const n of ['network.interface.wan', 'network.interface', 'network.device', 'system']) await srv.addObject(n, sig, () => ({ status: 0 }));
    const c = await client();
    const all = (await c.lookup()).map((o) => o.path);
    assert.deepEqual(all, ['network.device', 'network.interface', 'network.interface.wan', 'system']);
    const pref = await c.lookup('network.interface*');
    assert.deepEqual(pref.map((o) => o.path), ['network.interface', 'network.interface.wan']);
    for (const o of pref) {
      assert.ok(o.id >= 1024 && o.typeId >= 1024);
      assert.deepEqual(o.signature, { status: {}, up: { force: 7 } });
    }
    const one = await c.lookup('system');
    assert.equal(one.length, 1);
    await assert.rejects(c.lookup('nope'), (e: UbusError) => e.status === UbusStatus.NOT_FOUND);
    await assert.rejects(c.lookup('zz*'), (e: UbusError) => e.status === UbusStatus.NOT_FOUND);
  });

  it('call: data and status routed back by (seq, peer); unknown method and object; caller identity', async () => {
    const srv = await client();
    let seen: { user?: string; group?: string; peer: number } | undefined;
    await srv.addObject('test.echo', { echo: { msg: BlobmsgType.STRING }, fail: {} }, (inv) => {
      seen = inv;
      if (inv.method === 'fail') return { status: UbusStatus.NOT_SUPPORTED };
      return { status: 0, data: { got: inv.args, n: 2 ** 40, f: 0.5 } };
    });
    const c = await client();
    const r = await c.call('test.echo', 'echo', { msg: 'hi', extra: [1, true, null] });
    assert.deepEqual(r, { got: { msg: 'hi', extra: [1, true, null] }, n: 2 ** 40, f: 0.5 });
    assert.equal(seen?.peer, c.localId);
    assert.equal(seen?.user, 'root');
    assert.equal(seen?.group, 'root');
    await assert.rejects(c.call('test.echo', 'fail'), (e: UbusError) => e.status === UbusStatus.NOT_SUPPORTED);
    await assert.rejects(c.call('test.echo', 'nope'), (e: UbusError) => e.status === UbusStatus.METHOD_NOT_FOUND);
    await assert.rejects(c.call('test.missing', 'echo'), (e: UbusError) => e.status === UbusStatus.NOT_FOUND);
    // many calls in flight at once all find their own answer
    const many = await Promise.all(Array.from({ length: 50 }, (_, i) => c.call('test.echo', 'echo', { msg: `m${i}` })));
    many.forEach((m, i) => assert.deepEqual((m?.got as BlobmsgTable).msg, `m${i}`));
  });

  it('events: prefix patterns, no loopback to the sender, ubus.* refused', async () => {
    const a = await client();
    const b = await client();
    const gotA: string[] = [];
    const gotB: [string, BlobmsgTable][] = [];
    await a.listen('wanbond.*', (ev) => gotA.push(ev));
    await b.listen('wanbond.*', (ev, data) => gotB.push([ev, data]));
    await b.listen('wanbond.link', (ev, data) => gotB.push([ev, data])); // same client twice: delivered once per object
    await a.send('wanbond.link', { link: 'wan', to: 'down' });
    await a.send('other.thing', { x: 1 });
    await until(() => gotB.length >= 2);
    await sleep(100);
    assert.deepEqual(gotB, [
      ['wanbond.link', { link: 'wan', to: 'down' }],
      ['wanbond.link', { link: 'wan', to: 'down' }],
    ]);
    assert.deepEqual(gotA, []);
    await assert.rejects(a.send('ubus.object.add', {}), (e: UbusError) => e.status === UbusStatus.PERMISSION_DENIED);
  });

  it('subscribe/notify: subscribers get notifications, the publisher learns it has subscribers', async () => {
    const pub = await client();
    const obj = await pub.addObject('test.notifier', { status: {} }, () => ({ status: 0 }));
    assert.equal(obj.hasSubscribers, false);
    const sub = await client();
    const got: [string, BlobmsgTable][] = [];
    const stop = await sub.subscribe('test.notifier', (t, d) => got.push([t, d]));
    await until(() => obj.hasSubscribers);
    obj.notify('interface.update', { interface: 'wan', up: true });
    await until(() => got.length === 1);
    assert.deepEqual(got[0], ['interface.update', { interface: 'wan', up: true }]);
    await stop();
    await until(() => !obj.hasSubscribers);
  });

  it('subscribes to an object that appears later (ubus.object.add)', async () => {
    const sub = await client();
    const got: string[] = [];
    await sub.subscribe('test.late', (t) => got.push(t));
    const pub = await client();
    const obj = await pub.addObject('test.late', { status: {} }, () => ({ status: 0 }));
    await until(() => obj.hasSubscribers);
    obj.notify('hello', {});
    await until(() => got.length === 1);
  });

  it('1 MiB: a message at the limit is accepted, one over is refused (locally, and by ubusd)', async () => {
    const a = await client();
    const b = await client();
    const got: number[] = [];
    await b.listen('big.*', (_ev, d) => got.push(String(d.s).length));
    const sendFrame = (n: number) =>
      encodeMessage(MsgType.INVOKE, 1, 1, [
        encodeU32(Attr.OBJID, 1),
        encodeString(Attr.METHOD, 'send'),
        encodeAttr(Attr.DATA, Buffer.concat([encodeValue('id', 'big.one'), encodeValue('data', { s: 'a'.repeat(n) })])),
      ]);
    let n = UBUS_MAX_MSGLEN - (sendFrame(0).length - 8);
    while (sendFrame(n).length - 8 > UBUS_MAX_MSGLEN) n--;
    assert.equal(sendFrame(n).length - 8, UBUS_MAX_MSGLEN); // the root, padded, is exactly 1 MiB
    await a.send('big.one', { s: 'a'.repeat(n) });
    await until(() => got.length === 1);
    assert.equal(got[0], n);
    await assert.rejects(a.send('big.one', { s: 'a'.repeat(n + 4) }), (e: UbusError) => e.status === UbusStatus.INVALID_ARGUMENT);
    assert.ok(a.connected);
    // ubusd drops a client announcing more than UBUS_MAX_MSGLEN
    const raw = new RawClient();
    await raw.connect(path);
    const hdr = Buffer.alloc(12);
    hdr.writeUInt8(MsgType.PING, 1);
    hdr.writeUInt32BE(UBUS_MAX_MSGLEN + 4, 8);
    raw.sock.write(hdr);
    await until(() => raw.closed);
    // ...and answers one at the limit
    const raw2 = new RawClient();
    await raw2.connect(path);
    raw2.sock.write(sendFrame(n));
    const st = await until(() => raw2.frames.find((f) => f.type === MsgType.STATUS));
    const attrs = parseMessageAttrs(st.body);
    assert.ok(attrs.ok);
    assert.equal(attrs.value.u32(Attr.STATUS), 0);
    raw2.sock.destroy();
  });

  it('a reply close to 1 MiB reaches the caller', async () => {
    const srv = await client();
    await srv.addObject('test.bulk', { get: {} }, () => ({ status: 0, data: { blob: 'z'.repeat(900_000) } }));
    const c = await client();
    const r = await c.call('test.bulk', 'get');
    assert.equal(String(r?.blob).length, 900_000);
  });

  it('slow handler: the caller times out, later calls still match their own replies', async () => {
    const srv = await client();
    await srv.addObject('test.slow', { wait: { ms: BlobmsgType.INT32 } }, async (inv) => {
      await sleep(Number(inv.args.ms));
      return { status: 0, data: { waited: inv.args.ms ?? 0 } };
    });
    const c = await client();
    await assert.rejects(c.call('test.slow', 'wait', { ms: 800 }, 100), (e: UbusError) => e.status === UbusStatus.TIMEOUT);
    const fast = await c.call('test.slow', 'wait', { ms: 0 }, 5000);
    assert.deepEqual(fast, { waited: 0 });
    await sleep(900); // the late reply arrives and is dropped
    assert.deepEqual(await c.call('test.slow', 'wait', { ms: 300 }, 5000), { waited: 300 });
  });

  it('slow caller: a request trickling in byte by byte, and a caller not reading, are served', async () => {
    const srv = await client();
    await srv.addObject('test.ping', { ping: {} }, () => ({ status: 0, data: { pong: true } }));
    const c = await client();
    const id = await c.lookupId('test.ping');
    const raw = new RawClient();
    await raw.connect(path);
    const frame = encodeMessage(MsgType.INVOKE, 77, id, [encodeU32(Attr.OBJID, id), encodeString(Attr.METHOD, 'ping'), encodeAttr(Attr.DATA, encodeTableBody({}))]);
    for (const byte of frame) {
      raw.sock.write(Buffer.from([byte]));
      await sleep(2);
    }
    const st = await until(() => raw.frames.find((f) => f.type === MsgType.STATUS && f.seq === 77));
    assert.equal(st.peer, id); // ubusd rewrote the peer to the object id
    // a caller that stops reading does not hold up anyone else
    raw.sock.pause();
    for (let i = 0; i < 20; i++) raw.sock.write(encodeMessage(MsgType.INVOKE, 100 + i, id, [encodeU32(Attr.OBJID, id), encodeString(Attr.METHOD, 'ping'), encodeAttr(Attr.DATA, Buffer.alloc(0))]));
    assert.deepEqual(await c.call('test.ping', 'ping', {}, 2000), { pong: true });
    raw.sock.resume();
    await until(() => raw.frames.filter((f) => f.type === MsgType.STATUS && f.seq >= 100).length === 20);
    raw.sock.destroy();
  });

  it('survives ubusd restarting: reconnects, re-registers objects, listeners and subscriptions', async () => {
    const srv = await client();
    let calls = 0;
    const obj = await srv.addObject('test.persist', { hit: {} }, () => ({ status: 0, data: { calls: ++calls } }));
    const lis = await client();
    const events: string[] = [];
    await lis.listen('persist.*', (ev) => events.push(ev));
    const notes: string[] = [];
    await lis.subscribe('test.persist', (t) => notes.push(t));
    await until(() => obj.hasSubscribers);
    const oldId = obj.id;

    await ubusd.stop();
    await until(() => !srv.connected && !lis.connected);
    await assert.rejects(srv.call('test.persist', 'hit'), (e: UbusError) => e.status === UbusStatus.CONNECTION_FAILED);
    ubusd = new TestUbusd(path);
    await ubusd.start();
    await until(() => srv.connected && lis.connected && obj.id !== undefined && obj.hasSubscribers, 10000);
    assert.notEqual(obj.id, oldId);
    const c = await client();
    assert.deepEqual(await c.call('test.persist', 'hit'), { calls: 1 });
    await c.send('persist.ev', {});
    await until(() => events.includes('persist.ev'));
    obj.notify('after.restart', {});
    await until(() => notes.includes('after.restart'));
  });

  it('start() waits for a ubusd that is not there yet; close() ends the retries', async () => {
    const p3 = join(dir, 'late.sock');
    const c = new UbusClient({ socketPath: p3, minBackoffMs: 20, maxBackoffMs: 100 });
    await c.addObject('test.early', { status: {} }, () => ({ status: 0, data: { early: true } }));
    c.start();
    await sleep(150);
    assert.equal(c.connected, false);
    const late = new TestUbusd(p3);
    await late.start();
    await until(() => c.connected, 5000);
    const other = new UbusClient({ socketPath: p3 });
    await other.connect();
    assert.deepEqual(await until(() => other.call('test.early', 'status').catch(() => null)), { early: true });
    await other.close();
    await c.close();
    await late.stop();
    const c2 = new UbusClient({ socketPath: p3, minBackoffMs: 20 });
    c2.start();
    await c2.close();
    await sleep(100);
    assert.equal(c2.connected, false);
  });

  it('survives a fuzzing "ubusd": random frames of every type, valid headers, garbage bodies', async () => {
    let a = 0x1234567;
    const rnd = () => {
      a = (Math.imul(a, 1103515245) + 12345) >>> 0;
      return a / 2 ** 32;
    };
    const p4 = join(dir, 'fuzz.sock');
    const srv = net.createServer((s) => {
      s.on('error', () => undefined);
      s.resume(); // read (and drop) what the client sends, so its close is seen
      s.write(encodeMessage(MsgType.HELLO, 0, 0x7000, []));
      const frames: Buffer[] = [];
      for (let i = 0; i < 3000; i++) {
        const body = Buffer.from(Array.from({ length: Math.floor(rnd() * 48) }, () => Math.floor(rnd() * 256)));
        // sometimes well-formed attributes with random ids, to reach deeper code
        const attrs = rnd() < 0.5 ? [body] : [encodeU32(Attr.OBJID, Math.floor(rnd() * 4)), encodeString(Attr.METHOD, 'x'), encodeAttr(Attr.DATA, body)];
        frames.push(encodeMessage(Math.floor(rnd() * 14), Math.floor(rnd() * 4), Math.floor(rnd() * 4), attrs));
      }
      s.write(Buffer.concat(frames));
    });
    await new Promise<void>((r) => srv.listen(p4, () => r()));
    const c = new UbusClient({ socketPath: p4, reconnect: false });
    await c.addObject('fuzzed', { x: {} }, () => ({ status: 0 }));
    await c.listen('*', () => undefined);
    await c.connect();
    await sleep(300);
    assert.ok(c.connected); // frame-level valid garbage is logged and dropped, not fatal
    await c.close();
    await new Promise<void>((r) => srv.close(() => r()));
  });

  it('a garbage frame from ubusd drops the connection and the client reconnects', async () => {
    // A server that says HELLO, then sends a frame with version 1.
    const p2 = join(dir, 'bad.sock');
    let conns = 0;
    const srv = net.createServer((s) => {
      conns++;
      s.resume();
      s.write(encodeMessage(MsgType.HELLO, 0, 0x5000, []));
      if (conns === 1) setTimeout(() => s.write(Buffer.from('0100000000000000000000040000', 'hex')), 20);
    });
    await new Promise<void>((r) => srv.listen(p2, () => r()));
    const c = new UbusClient({ socketPath: p2, minBackoffMs: 20 });
    await c.connect();
    await until(() => conns === 2 && c.connected);
    await c.close();
    await new Promise<void>((r) => srv.close(() => r()));
  });
});
