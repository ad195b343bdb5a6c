// NetifdWatcher against the TEST DOUBLES of ubusd (test/doubles/ubusd/broker.ts) and netifd
// (test/doubles/ubusd/netifd.ts). The netifd status replies are recorded fixtures
// (test/fixtures/netifd/*.json, written field by field from netifd's ubus.c): they stand in for
// netifd, which cannot run here.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type InterfaceState, NetifdWatcher, interfaceStateFromStatus } from '../../src/netifd/watcher.ts';
import type { BlobmsgTable } from '../../src/ubus/blobmsg.ts';
import { UbusClient } from '../../src/ubus/client.ts';
import { TestUbusd } from '../doubles/ubusd/broker.ts';
import { TestNetifd } from '../doubles/ubusd/netifd.ts';

const fixture = (name: string): BlobmsgTable => JSON.parse(readFileSync(join(import.meta.dirname, '../fixtures/netifd', `${name}.json`), 'utf8'));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
async function until<T>(fn: () => T | undefined | false, ms = 5000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = fn();
    if (v) return v;
    if (Date.now() > end) throw new Error('condition not reached in time');
    await sleep(5);
  }
}

describe('netifd status fixtures -> interface state', () => {
  it('DHCP wan: l3_device, default route nexthop, address', () => {
    assert.deepEqual(interfaceStateFromStatus('wan', fixture('wan-dhcp-up')), { interface: 'wan', up: true, device: 'eth1', gateway: '192.168.1.1', addresses: ['192.168.1.100'] });
  });
  it('3G wwan: ppp device, peer as gateway', () => {
    assert.deepEqual(interfaceStateFromStatus('wwan', fixture('wwan-3g-up')), { interface: 'wwan', up: true, device: '3g-wwan', gateway: '10.64.64.64', addresses: ['10.157.32.18'] });
  });
  it('defaultroute 0: the gateway comes from the inactive default route', () => {
    assert.deepEqual(interfaceStateFromStatus('wan', fixture('wan-dhcp-nodefaultroute')), { interface: 'wan', up: true, device: 'eth1', gateway: '192.168.1.1', addresses: ['192.168.1.100'] });
  });
  it('down interface: no device, gateway or address', () => {
    assert.deepEqual(interfaceStateFromStatus('wan2', fixture('wan2-down')), { interface: 'wan2', up: false, addresses: [] });
  });
});

describe('NetifdWatcher over ubus', () => {
  let dir: string;
  let path: string;
  let ubusd: TestUbusd;
  let netifd: TestNetifd;
  let client: UbusClient;
  let watcher: NetifdWatcher;
  const changes: InterfaceState[] = [];

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'wanbond-netifd-'));
    path = join(dir, 'ubus.sock');
    ubusd = new TestUbusd(path);
    await ubusd.start();
    netifd = new TestNetifd(
      path,
      new Map([
        ['wan', fixture('wan-dhcp-up')],
        ['wwan', fixture('wwan-3g-up')],
        ['wan2', fixture('wan2-down')],
        ['lan', { ...fixture('wan-dhcp-up'), l3_device: 'br-lan' }],
      ]),
    );
    await netifd.start();
    client = new UbusClient({ socketPath: path, minBackoffMs: 20 });
    await client.connect();
    watcher = new NetifdWatcher(client, ['wan', 'wwan', 'wan2', 'wan3']);
    watcher.on('change', (s) => changes.push(s));
    await watcher.start();
  });
  after(async () => {
    await watcher.stop();
    await client.close();
    await netifd.stop();
    await ubusd.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('reads every watched interface at start (a missing one counts as down)', () => {
    assert.equal(watcher.get('wan')?.gateway, '192.168.1.1');
    assert.equal(watcher.get('wwan')?.device, '3g-wwan');
    assert.equal(watcher.get('wan2')?.up, false);
    assert.deepEqual(watcher.get('wan3'), { interface: 'wan3', up: false, addresses: [] });
    assert.equal(watcher.get('lan'), undefined);
  });

  it('ifdown reaches it well within a second', async () => {
    changes.length = 0;
    const t0 = Date.now();
    await netifd.event('wan', 'down', { ...fixture('wan2-down'), device: 'eth1' });
    const c = await until(() => changes.find((x) => x.interface === 'wan'));
    assert.ok(Date.now() - t0 < 1000);
    assert.deepEqual(c, { interface: 'wan', up: false, addresses: [] });
  });

  it('ifup with a new lease, from the event alone (status is read back)', async () => {
    changes.length = 0;
    await netifd.event('wan2', 'up', fixture('wan2-dhcp-up'), { notify: false });
    const c = await until(() => changes.find((x) => x.interface === 'wan2'));
    assert.deepEqual(c, { interface: 'wan2', up: true, device: 'eth2', gateway: '100.72.12.1', addresses: ['100.72.14.9'] });
  });

  it('an address change, from the notification alone (interface.update)', async () => {
    changes.length = 0;
    const st = fixture('wwan-3g-up');
    (st['ipv4-address'] as BlobmsgTable[])[0]!.address = '10.157.40.2';
    await netifd.event('wwan', 'update', st);
    const c = await until(() => changes.find((x) => x.interface === 'wwan'));
    assert.deepEqual(c.addresses, ['10.157.40.2']);
  });

  it('ignores interfaces it does not watch and repeats of the same state', async () => {
    changes.length = 0;
    await netifd.event('lan', 'down', fixture('wan2-down'));
    await netifd.event('wwan', 'update', watcherStatusCopy());
    await sleep(200);
    assert.deepEqual(changes, []);
  });

  it('takes a new interface list (config reload): new ones read at once, dropped ones forgotten', async () => {
    changes.length = 0;
    watcher.setInterfaces(['wan', 'wwan', 'wan2', 'lan']);
    const c = await until(() => changes.find((x) => x.interface === 'lan'));
    assert.deepEqual(c, { interface: 'lan', up: false, addresses: [] }); // netifd set it down earlier
    watcher.setInterfaces(['wan', 'wwan', 'wan2', 'wan3']);
    assert.equal(watcher.get('lan'), undefined);
  });

  it('follows netifd restarting (new object ids)', async () => {
    await netifd.restart();
    changes.length = 0;
    await until(() => ubusd.subscriberCount('network.interface') === 1);
    await netifd.event('wan', 'up', fixture('wan-dhcp-up'), { event: false });
    const c = await until(() => changes.find((x) => x.interface === 'wan'));
    assert.equal(c.up, true);
  });

  it('re-reads interfaces after ubusd restarts, whoever reconnects first', async () => {
    await ubusd.stop();
    await until(() => !client.connected);
    // while ubusd is away the lease changes; nobody can tell anyone
    const st = fixture('wan-dhcp-up');
    (st['ipv4-address'] as BlobmsgTable[])[0]!.address = '192.168.1.177';
    await netifd.event('wan', 'update', st, { event: false, notify: false });
    changes.length = 0;
    ubusd = new TestUbusd(path);
    await ubusd.start();
    const c = await until(() => changes.find((x) => x.interface === 'wan' && x.addresses[0] === '192.168.1.177'), 10000);
    assert.equal(c.up, true);
  });
});

function watcherStatusCopy(): BlobmsgTable {
  const st = fixture('wwan-3g-up');
  (st['ipv4-address'] as BlobmsgTable[])[0]!.address = '10.157.40.2';
  return { ...st, uptime: 999 };
}
