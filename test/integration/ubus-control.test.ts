// The local control socket (src/control) and `wanbond status` (src/cli/status.ts), with the TEST
// DOUBLE agent (test/doubles/agent-api.ts) and, for the ubus path, the TEST DOUBLE of ubusd.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { runStatus } from '../../src/cli/status.ts';
import { ControlError, controlCall } from '../../src/control/client.ts';
import { CONTROL_SOCKET_PATH, startControlServer } from '../../src/control/server.ts';
import { startUbusFrontend } from '../../src/ubus/frontend.ts';
import { UbusClient } from '../../src/ubus/client.ts';
import { FAKE_NOW, FakeAgentApi } from '../doubles/agent-api.ts';
import { TestUbusd } from '../doubles/ubusd/broker.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Sends raw bytes, returns the reply lines received until the server closes or `lines` arrive. */
function rawExchange(path: string, data: string | Buffer, lines: number): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const s = net.createConnection(path);
    let buf = '';
    const timer = setTimeout(() => {
      s.destroy();
      reject(new Error(`timeout, got ${JSON.stringify(buf)}`));
    }, 5000);
    const finish = () => {
      clearTimeout(timer);
      s.destroy();
      resolve(buf.split('\n').filter(Boolean));
    };
    s.on('data', (c) => {
      buf += c.toString();
      if (buf.split('\n').filter(Boolean).length >= lines) finish();
    });
    s.on('close', finish);
    s.on('error', () => undefined);
    s.write(data);
  });
}

describe('control socket', () => {
  let dir: string;
  let path: string;
  let api: FakeAgentApi;
  let server: { close(): Promise<void> };

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'wanbond-ctl-'));
    path = join(dir, 'run', 'control.sock');
    api = new FakeAgentApi();
    server = await startControlServer(api, path);
  });
  after(async () => {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('defaults to /var/run/wanbond/control.sock', () => {
    assert.equal(CONTROL_SOCKET_PATH, '/var/run/wanbond/control.sock');
  });

  it('is a socket with mode 0600 in a 0700 directory, owned by the agent user', () => {
    const st = statSync(path);
    assert.ok(st.isSocket());
    assert.equal(st.mode & 0o777, 0o600);
    assert.equal(statSync(join(dir, 'run')).mode & 0o777, 0o700);
    assert.equal(st.uid, process.getuid!());
  });

  it('serves the same methods as the ubus object', async () => {
    assert.deepEqual(await controlCall('status', {}, { path }), JSON.parse(JSON.stringify(api.state)));
    assert.deepEqual(await controlCall('links', {}, { path }), { links: JSON.parse(JSON.stringify(api.state.links)) });
    assert.deepEqual(await controlCall('set_link', { link: 'wan2', enabled: false }, { path }), { link: 'wan2', enabled: false });
    assert.equal(api.state.links.find((l) => l.name === 'wan2')?.status, 'disabled');
    assert.deepEqual(await controlCall('reload', {}, { path }), { ok: true });
    await assert.rejects(controlCall('set_link', { link: 'nope', enabled: true }, { path }), (e: ControlError) => e.status === 4 && /no link/.test(e.message));
    await assert.rejects(controlCall('set_link', { link: 'wan', enabled: 'yes' }, { path }), (e: ControlError) => e.status === 2);
    await assert.rejects(controlCall('shutdown', {}, { path }), (e: ControlError) => e.status === 3);
  });

  it('answers garbage with an error and keeps serving the same connection', async () => {
    const lines = await rawExchange(
      path,
      'not json\n{"nomethod":1}\n[1,2]\n{"method":"status","args":"x"}\n\n{"method":"links","id":7}\n',
      5,
    );
    const replies = lines.map((l) => JSON.parse(l));
    assert.deepEqual(replies.slice(0, 4).map((r) => r.ok), [false, false, false, false]);
    assert.equal(replies[0].error, 'invalid JSON');
    assert.equal(replies[4].ok, true);
    assert.equal(replies[4].id, 7);
    assert.ok(Array.isArray(replies[4].result.links));
  });

  it('refuses an endless line and survives clients that vanish mid-request', async () => {
    const lines = await rawExchange(path, Buffer.alloc(1024 * 1024 + 10, 0x61), 1);
    assert.equal(JSON.parse(lines[0]!).ok, false);
    const s = net.createConnection(path);
    s.on('error', () => undefined);
    s.write('{"method":"sta');
    s.destroy();
    await sleep(50);
    assert.equal(((await controlCall('status', {}, { path })) as { globals: { role: string } }).globals.role, 'router');
  });

  it('replaces a stale socket file, but not a live one nor a regular file', async () => {
    const p2 = join(dir, 'stale.sock');
    // a crashed agent leaves its socket file behind, with nobody listening
    execFileSync('python3', ['-c', 'import socket,sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])', p2]);
    assert.ok(statSync(p2).isSocket());
    const s1 = await startControlServer(api, p2);
    assert.equal(((await controlCall('links', {}, { path: p2 })) as { links: unknown[] }).links.length, 3);
    await assert.rejects(startControlServer(api, p2), /in use/);
    assert.equal(((await controlCall('links', {}, { path: p2 })) as { links: unknown[] }).links.length, 3);
    await s1.close();
    const regular = join(dir, 'regular');
    writeFileSync(regular, 'x');
    await assert.rejects(startControlServer(api, regular), /not a socket/);
  });
});

describe('wanbond status', () => {
  let dir: string;
  let api: FakeAgentApi;
  let out: string[];
  let err: string[];
  const io = (extra: object) => ({ out: (l: string) => out.push(l), err: (l: string) => err.push(l), now: () => FAKE_NOW, ...extra });

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'wanbond-cli-'));
    api = new FakeAgentApi();
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('asks ubus where ubusd runs: --json prints the exact status object', async () => {
    const ubusPath = join(dir, 'ubus.sock');
    const ubusd = new TestUbusd(ubusPath);
    await ubusd.start();
    const fe = startUbusFrontend(api, { socketPath: ubusPath });
    const probe = new UbusClient({ socketPath: ubusPath });
    await probe.connect();
    while ((await probe.lookup().catch(() => [])).length === 0) await sleep(10);
    await probe.close();
    out = [];
    err = [];
    assert.equal(await runStatus(['--json'], io({ ubusSocket: ubusPath, controlSocket: join(dir, 'none.sock') })), 0);
    assert.deepEqual(JSON.parse(out.join('\n')), JSON.parse(JSON.stringify(api.state)));
    await fe.stop();
    await ubusd.stop();
  });

  it('falls back to the control socket (concentrator): a table, one row per link', async () => {
    const ctl = join(dir, 'ctl', 'control.sock');
    const srv = await startControlServer(api, ctl);
    out = [];
    err = [];
    assert.equal(await runStatus([], io({ ubusSocket: join(dir, 'no-ubus.sock'), controlSocket: ctl })), 0);
    await srv.close();
    const text = out.join('\n');
    assert.match(out[0]!, /^wanbond 0\.1\.0-test router on OpenWrt, enabled, up 2h02m$/);
    assert.match(text, /bond wanbond0 \(balance-rr, mtu 1380\): wan wwan, rx 10\.8Mbit\/s tx 1\.8Mbit\/s/);
    assert.match(text, /concentrator vps\.example\.net: reachable for 2h01m/);
    const header = out.findIndex((l) => l.startsWith('LINK'));
    assert.ok(header > 0);
    const rows = out.slice(header + 1, header + 4);
    assert.deepEqual(out.slice(header + 4), ['', 'bond: * express link: small non-TCP packets (calls, DNS, pings) leave by it, bypassing the bond', 'capacity: ~ measured by packet trains']);
    assert.match(rows[0]!, /^wan\s+up\s+yes\*\s+wan\s+eth1\s+43ms\s+3\.3ms\s+0\.0%\s+5\.4M\s+880k\s+8\.0M\/~1\.5M\s+1h00m\s+probes ok$/);
    assert.match(rows[1]!, /^wwan\s+up\s+yes\s+wwan\s+wwan0\s+68ms\s+12ms\s+1\.5%/);
    assert.match(rows[2]!, /^wan2\s+down\s+no\s+wan2\s+-\s+-\s+-\s+100%\s+0k\s+0k\s+8\.0M\/~1\.5M\s+1m35s\s+netifd: interface down$/);
    assert.deepEqual(err, []);
  });

  it('says clearly that no agent runs, and exits non-zero', async () => {
    out = [];
    err = [];
    assert.equal(await runStatus(['--json'], io({ ubusSocket: join(dir, 'x.sock'), controlSocket: join(dir, 'y.sock') })), 1);
    assert.deepEqual(out, []);
    assert.match(err[0]!, /no running agent answered/);
    assert.ok(err.some((l) => l.includes('ubus:')) && err.some((l) => l.includes('control socket:')));
  });

  it('rejects unknown options', async () => {
    out = [];
    err = [];
    assert.equal(await runStatus(['--yaml'], io({})), 2);
    assert.match(err[0]!, /unknown option '--yaml'/);
  });
});
