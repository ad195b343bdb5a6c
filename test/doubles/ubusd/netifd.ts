// TEST DOUBLE of netifd's ubus side (netifd cannot run here). Publishes `network.interface` and
// `network.interface.<name>` with `status` answering from recorded fixtures
// (test/fixtures/netifd), and on interface events does what netifd's interface-event.c and ubus.c
// do: the `network.interface` event {action, interface} on ifup/ifdown, then NO_REPLY
// notifications `interface.update` / `interface.down` with {interface, ...status} on both objects.
import type { BlobmsgTable } from '../../../src/ubus/blobmsg.ts';
import { BlobmsgType } from '../../../src/ubus/blobmsg.ts';
import { UbusClient, type UbusObjectHandle, type UbusSignature, UbusStatus } from '../../../src/ubus/client.ts';

// netifd ubus.c iface_object_methods (dev_link_policy for add_device/remove_device).
const IFACE_METHODS: UbusSignature = {
  up: {},
  down: {},
  renew: {},
  restart: {},
  status: {},
  prepare: {},
  dump: {},
  add_device: { name: BlobmsgType.STRING, 'link-ext': BlobmsgType.BOOL, vlan: BlobmsgType.ARRAY },
  remove_device: { name: BlobmsgType.STRING, 'link-ext': BlobmsgType.BOOL, vlan: BlobmsgType.ARRAY },
  notify_proto: {},
  remove: {},
  set_data: {},
};

export class TestNetifd {
  private client: UbusClient;
  private main?: UbusObjectHandle;
  private ifaces = new Map<string, UbusObjectHandle>();

  constructor(
    private readonly socketPath: string,
    private readonly statuses: Map<string, BlobmsgTable>,
  ) {
    this.client = new UbusClient({ socketPath, minBackoffMs: 20 });
  }

  async start(): Promise<void> {
    await this.client.connect();
    this.main = await this.client.addObject('network.interface', IFACE_METHODS, (inv) => {
      if (inv.method !== 'dump') return { status: UbusStatus.NOT_FOUND };
      return { status: 0, data: { interface: [...this.statuses].map(([name, s]) => ({ interface: name, ...s })) } };
    });
    for (const name of this.statuses.keys()) {
      const h = await this.client.addObject(`network.interface.${name}`, IFACE_METHODS, (inv) =>
        inv.method === 'status' ? { status: 0, data: this.statuses.get(name)! } : { status: UbusStatus.NOT_SUPPORTED },
      );
      this.ifaces.set(name, h);
    }
  }

  /** Like netifd exiting and being started again: the objects come back with new ids. */
  async restart(): Promise<void> {
    await this.client.close();
    this.ifaces.clear();
    this.client = new UbusClient({ socketPath: this.socketPath, minBackoffMs: 20 });
    await this.start();
  }

  async stop(): Promise<void> {
    await this.client.close();
  }

  /** interface_queue_event(): IFEV_UP / IFEV_DOWN / IFEV_UPDATE with the new status. */
  async event(name: string, ev: 'up' | 'down' | 'update', status: BlobmsgTable, opts: { event?: boolean; notify?: boolean } = {}): Promise<void> {
    this.statuses.set(name, status);
    if (ev !== 'update' && opts.event !== false) await this.client.send('network.interface', { action: ev === 'up' ? 'ifup' : 'ifdown', interface: name });
    if (opts.notify === false) return;
    const type = ev === 'down' ? 'interface.down' : 'interface.update';
    const data = { interface: name, ...status };
    this.main?.notify(type, data);
    this.ifaces.get(name)?.notify(type, data);
  }
}
