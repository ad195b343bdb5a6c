// The `wanbond` ubus object (startUbusFrontend) served to callers through the TEST DOUBLE of
// ubusd (test/doubles/ubusd/broker.ts), with the TEST DOUBLE agent (test/doubles/agent-api.ts).
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { BlobmsgTable } from '../../src/ubus/blobmsg.ts';
import { UbusClient, type UbusError, UbusStatus } from '../../src/ubus/client.ts';
import { startUbusFrontend, type UbusFrontend } from '../../src/ubus/frontend.ts';
import { FrameReader, MsgType, type UbusMessage } from '../../src/ubus/message.ts';
import { FAKE_NOW, FakeAgentApi } from '../doubles/agent-api.ts';
import { TestUbusd } from '../doubles/ubusd/broker.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
async function until<T>(fn: () => T | undefined | null | false | Promise<T | undefined | null | false>, ms = 5000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    let v: T | undefined | null | false;
    try {
      v = await fn();
    } catch {
      v = undefined;
    }
    if (v) return v;
    if (Date.now() > end) throw new Error('condition not reached in time');
    await sleep(10);
  }
}

// ---- an independent reference encoder, written from libubox's rules (not src/ubus) -----------
function pad4(b: Buffer): Buffer {
  return Buffer.concat([b, Buffer.alloc((4 - (b.length % 4)) % 4)]);
}
function refAttr(id: number, payload: Buffer, ext: boolean): Buffer {
  const h = Buffer.alloc(4);
  h.writeUInt32BE(((ext ? 0x80000000 : 0) + id * 0x1000000 + 4 + payload.length) >>> 0);
  return pad4(Buffer.concat([h, payload]));
}
function refName(name: string): Buffer {
  const n = Buffer.from(name);
  const l = Buffer.alloc(2);
  l.writeUInt16BE(n.length);
  return pad4(Buffer.concat([l, n, Buffer.from([0])]));
}
function refValue(name: string, v: unknown): Buffer {
  const f = (type: number, val: Buffer) => refAttr(type, Buffer.concat([refName(name), val]), true);
  if (v === null) return f(0, Buffer.alloc(0));
  if (typeof v === 'boolean') return f(7, Buffer.from([v ? 1 : 0]));
  if (typeof v === 'string') return f(3, Buffer.concat([Buffer.from(v), Buffer.from([0])]));
  if (typeof v === 'number') {
    const b = Buffer.alloc(8);
    if (Number.isInteger(v) && v >= -(2 ** 31) && v < 2 ** 31) {
      b.writeInt32BE(v);
      return f(5, b.subarray(0, 4));
    }
    if (Number.isInteger(v)) {
      b.writeBigInt64BE(BigInt(v));
      return f(4, b);
    }
    b.writeDoubleBE(v);
    return f(8, b);
  }
  if (Array.isArray(v)) return f(1, Buffer.concat(v.map((x) => refValue('', x))));
  return f(2, Buffer.concat(Object.entries(v as object).filter(([, x]) => x !== undefined).map(([k, x]) => refValue(k, x))));
}
function refFrame(type: number, seq: number, peer: number, attrs: Buffer[]): Buffer {
  const h = Buffer.alloc(8);
  h.writeUInt8(type, 1);
  h.writeUInt16BE(seq, 2);
  h.writeUInt32BE(peer, 4);
  return Buffer.concat([h, refAttr(0, Buffer.concat(attrs), false)]);
}
const u32 = (id: number, v: number) => {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(v);
  return refAttr(id, b, false);
};
const str = (id: number, s: string) => refAttr(id, Buffer.concat([Buffer.from(s), Buffer.from([0])]), false);
// --------------------------------------------------------------------------------------------

describe('wanbond ubus object', () => {
  let dir: string;
  let path: string;
  let ubusd: TestUbusd;
  let api: FakeAgentApi;
  let fe: UbusFrontend;
  let caller: UbusClient;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'wanbond-ubusobj-'));
    path = join(dir, 'ubus.sock');
    ubusd = new TestUbusd(path);
    await ubusd.start();
    api = new FakeAgentApi();
    fe = startUbusFrontend(api, { socketPath: path });
    caller = new UbusClient({ socketPath: path, minBackoffMs: 20 });
    await caller.connect();
    await until(() => caller.lookup('wanbond').then((o) => o.length === 1));
  });
  after(async () => {
    await caller.close();
    await fe.stop();
    await ubusd.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('publishes its methods with their argument types', async () => {
    const [o] = await caller.lookup('wanbond');
    assert.deepEqual(o?.signature, { status: {}, links: {}, reload: {}, set_link: { link: 3, enabled: 7 } });
  });

  it('status returns the status object; links the per-link part', async () => {
    assert.deepEqual(await caller.call('wanbond', 'status'), JSON.parse(JSON.stringify(api.state)));
    assert.deepEqual(await caller.call('wanbond', 'links'), { links: JSON.parse(JSON.stringify(api.state.links)) });
  });

  it('tolerates ubus_rpc_session (uhttpd adds it for LuCI)', async () => {
    const r = await caller.call('wanbond', 'status', { ubus_rpc_session: '0123456789abcdef0123456789abcdef' });
    assert.equal((r?.globals as BlobmsgTable).role, 'router');
  });

  it('answers bad arguments, unknown methods and unknown links with ubus status codes', async () => {
    const code = (p: Promise<unknown>) => p.then(() => 0, (e: UbusError) => e.status);
    assert.equal(await code(caller.call('wanbond', 'set_link', { link: 'wan2', enabled: 'no' })), UbusStatus.INVALID_ARGUMENT);
    assert.equal(await code(caller.call('wanbond', 'set_link', { link: 'wan2' })), UbusStatus.INVALID_ARGUMENT);
    assert.equal(await code(caller.call('wanbond', 'set_link', { link: 'x; rm -rf /', enabled: true })), UbusStatus.INVALID_ARGUMENT);
    assert.equal(await code(caller.call('wanbond', 'status', { ubus_rpc_session: 5 })), UbusStatus.INVALID_ARGUMENT);
    assert.equal(await code(caller.call('wanbond', 'set_link', { link: 'nope', enabled: false })), UbusStatus.NOT_FOUND);
    assert.equal(await code(caller.call('wanbond', 'destroy')), UbusStatus.METHOD_NOT_FOUND);
    assert.equal(api.calls.filter((c) => c.method === 'setLink').length, 1); // only the well-formed unknown link got through
  });

  it('set_link takes a link out, emits wanbond.link, and status shows it', async () => {
    const got: [string, BlobmsgTable][] = [];
    const stop = await caller.listen('wanbond.*', (ev, d) => got.push([ev, d]));
    const notes: [string, BlobmsgTable][] = [];
    const sub = new UbusClient({ socketPath: path });
    await sub.connect();
    await sub.subscribe('wanbond', (t, d) => notes.push([t, d]));
    assert.deepEqual(await caller.call('wanbond', 'set_link', { link: 'wan', enabled: false, ubus_rpc_session: 'x' }), { link: 'wan', enabled: false });
    await until(() => got.length === 1);
    assert.deepEqual(got[0], ['wanbond.link', { link: 'wan', from: 'up', to: 'disabled', reason: 'disabled at run time', rtt_ms: 42.5, loss_pct: 0 }]);
    const s = await caller.call('wanbond', 'status');
    assert.deepEqual((s?.bond as BlobmsgTable).members, ['wwan']);
    api.emitStatus({ kind: 'concentrator', members: ['wwan'], reachable: false, fallback: true, reason: 'no handshake for 10 s', time: FAKE_NOW });
    await until(() => got.length === 2);
    assert.deepEqual(got[1], ['wanbond.status', { kind: 'concentrator', members: ['wwan'], reachable: false, fallback: true, reason: 'no handshake for 10 s', time: FAKE_NOW }]);
    await caller.call('wanbond', 'set_link', { link: 'wan', enabled: true });
    await stop();
    await until(() => notes.length === 3);
    assert.deepEqual(notes.map(([t]) => t), ['wanbond.link', 'wanbond.status', 'wanbond.link']);
    assert.deepEqual(notes[0], got[0]);
    await sub.close();
  });

  it('reload reports a broken config without failing the call', async () => {
    assert.deepEqual(await caller.call('wanbond', 'reload'), { ok: true });
    api.reloadResult = { ok: false, errors: ["/etc/config/wanbond:12: option 'weight': expected 1..100"] };
    assert.deepEqual(await caller.call('wanbond', 'reload'), { ok: false, errors: ["/etc/config/wanbond:12: option 'weight': expected 1..100"] });
    api.reloadResult = { ok: true };
  });

  it('a slow reload does not block status calls', async () => {
    api.reloadDelayMs = 1000;
    const order: string[] = [];
    const slow = caller.call('wanbond', 'reload', {}, 10000).then((r) => (order.push('reload'), r));
    await caller.call('wanbond', 'status').then(() => order.push('status'));
    assert.deepEqual(await slow, { ok: true });
    assert.deepEqual(order, ['status', 'reload']);
    await assert.rejects(caller.call('wanbond', 'reload', {}, 100), (e: UbusError) => e.status === UbusStatus.TIMEOUT);
    api.reloadDelayMs = 0;
    await sleep(1100); // the late reply arrives and is dropped
    assert.deepEqual(await caller.call('wanbond', 'reload'), { ok: true });
  });

  it('never sends key material', async () => {
    const st = api.state as unknown as { links: Record<string, unknown>[]; private_key?: string };
    st.private_key = 'SECRETKEY0000000000000000000000000000000000=';
    st.links[0]!.preshared_key = 'SECRETPSK';
    const r = JSON.stringify(await caller.call('wanbond', 'status'));
    delete st.private_key;
    delete st.links[0]!.preshared_key;
    assert.ok(!r.includes('SECRET'), r);
  });

  it('reply bytes are the ones libubus sends: DATA {OBJID, DATA}, then STATUS {STATUS, OBJID}', async () => {
    const [o] = await caller.lookup('wanbond');
    const objid = o!.id;
    const sock = net.createConnection(path);
    const reader = new FrameReader();
    const raw: Buffer[] = [];
    const frames: UbusMessage[] = [];
    sock.on('data', (c: Buffer) => {
      raw.push(c);
      const r = reader.push(c);
      if (r.ok) frames.push(...r.value);
    });
    await until(() => frames.length >= 1);
    const myId = frames[0]!.peer;
    // `ubus call wanbond status` from libubus: INVOKE seq 1 peer objid {OBJID, METHOD, DATA(empty)}
    sock.write(refFrame(MsgType.INVOKE, 1, objid, [u32(3, objid), str(4, 'status'), refAttr(7, Buffer.alloc(0), false)]));
    await until(() => frames.some((f) => f.type === MsgType.STATUS));
    sock.destroy();
    const expected = Buffer.concat([
      refFrame(MsgType.HELLO, 0, myId, []),
      refFrame(MsgType.DATA, 1, objid, [u32(3, objid), refAttr(7, Buffer.concat(Object.entries(api.state).map(([k, v]) => refValue(k, v))), false)]),
      refFrame(MsgType.STATUS, 1, objid, [u32(1, 0), u32(3, objid)]),
    ]);
    assert.equal(Buffer.concat(raw).toString('hex'), expected.toString('hex'));
  });

  it('ADD_OBJECT, event register and send go out as libubus writes them', async () => {
    const c = new UbusClient({ socketPath: path });
    await c.connect();
    ubusd.record = true;
    const obj = await c.addObject('wanbond.copy', { status: {}, set_link: { link: 3, enabled: 7 } }, () => ({ status: 0 }));
    const stop = await c.listen('wanbond.*', () => undefined);
    await c.send('wanbond.link', { link: 'wan', rtt_ms: 12.5 });
    ubusd.record = false;
    const sent = ubusd.frames.filter((f) => f.dir === 'in' && f.client === c.localId).map((f) => f.bytes.toString('hex'));
    const anonId = [...ubusd.frames].reverse().find((f) => f.dir === 'out' && f.client === c.localId && f.bytes[1] === MsgType.DATA)!;
    const anon = anonId.bytes.readUInt32BE(8 + 4 + 4); // the OBJID attr of ADD_OBJECT's reply
    const expected = [
      refFrame(MsgType.ADD_OBJECT, 1, 0, [str(2, 'wanbond.copy'), refAttr(6, Buffer.concat([refValue('status', {}), refValue('set_link', { link: 3, enabled: 7 })]), false)]),
      refFrame(MsgType.ADD_OBJECT, 2, 0, []),
      refFrame(MsgType.INVOKE, 3, 1, [u32(3, 1), str(4, 'register'), refAttr(7, Buffer.concat([refValue('object', anon | 0), refValue('pattern', 'wanbond.*')]), false)]),
      refFrame(MsgType.INVOKE, 4, 1, [u32(3, 1), str(4, 'send'), refAttr(7, Buffer.concat([refValue('id', 'wanbond.link'), refValue('data', { link: 'wan', rtt_ms: 12.5 })]), false)]),
    ].map((b) => b.toString('hex'));
    assert.deepEqual(sent, expected);
    assert.ok(obj.id! >= 1024);
    await stop();
    await c.close();
    ubusd.frames.length = 0;
  });

  it('comes back after ubusd restarts', async () => {
    await ubusd.stop();
    ubusd = new TestUbusd(path);
    await ubusd.start();
    await until(() => caller.connected && fe.client.connected, 10000);
    const r = await until(() => caller.call('wanbond', 'status').catch(() => null), 10000);
    assert.equal((r.globals as BlobmsgTable).hostname, 'OpenWrt');
    // events flow again too
    const got: string[] = [];
    await caller.listen('wanbond.link', (ev) => got.push(ev));
    api.emitLink({ link: 'wwan', from: 'up', to: 'degraded', reason: 'loss 12%', rtt_ms: 90, loss_pct: 12, time: FAKE_NOW });
    await until(() => got.length === 1);
  });
});
