// Follows the netifd interfaces that carry WAN links. netifd notifies subscribers of
// `network.interface` on every interface event (type interface.update / interface.down, data =
// {interface} + the full status) and sends the `network.interface` event {action, interface} on
// ifup/ifdown (netifd ubus.c, interface-event.c). We take both, read `network.interface.<name>
// status` at start, on each event and after every ubus reconnect: no polling loop.
import { EventEmitter } from 'node:events';
import type { BlobmsgTable, BlobmsgValue } from '../ubus/blobmsg.ts';
import type { UbusClient } from '../ubus/client.ts';
import { UbusError, UbusStatus } from '../ubus/message.ts';

export interface InterfaceState {
  interface: string;
  up: boolean;
  /** l3_device: the device traffic of this interface leaves through. */
  device?: string;
  /** nexthop of the interface's default route (IPv4, else IPv6). */
  gateway?: string;
  addresses: string[];
}

interface WatcherEvents {
  change: [InterfaceState];
  error: [Error];
}

const isTable = (v: BlobmsgValue | undefined): v is BlobmsgTable => !!v && typeof v === 'object' && !Array.isArray(v);
const list = (v: BlobmsgValue | undefined): BlobmsgValue[] => (Array.isArray(v) ? v : []);

/** netifd status (the `status` reply or a notification's data) -> the part wanbond needs. */
export function interfaceStateFromStatus(name: string, s: BlobmsgTable): InterfaceState {
  const up = s.up === true;
  const st: InterfaceState = { interface: name, up, addresses: [] };
  if (!up) return st;
  if (typeof s.l3_device === 'string') st.device = s.l3_device;
  for (const key of ['ipv4-address', 'ipv6-address']) {
    for (const a of list(s[key])) if (isTable(a) && typeof a.address === 'string') st.addresses.push(a.address);
  }
  // With `option defaultroute 0` (usual under policy routing) netifd lists the default route
  // as inactive; its nexthop is still this link's gateway.
  const inactive = isTable(s.inactive) ? list(s.inactive.route) : [];
  const routes = [...list(s.route), ...inactive].filter(isTable);
  const dflt = (family: 'v4' | 'v6') =>
    routes.find((r) => r.mask === 0 && typeof r.nexthop === 'string' && (family === 'v4' ? r.target === '0.0.0.0' : r.target === '::'));
  const gw = dflt('v4') ?? dflt('v6');
  if (gw && typeof gw.nexthop === 'string' && gw.nexthop !== '0.0.0.0' && gw.nexthop !== '::') st.gateway = gw.nexthop;
  return st;
}

const same = (a: InterfaceState | undefined, b: InterfaceState): boolean => !!a && JSON.stringify(a) === JSON.stringify(b);

export class NetifdWatcher extends EventEmitter<WatcherEvents> {
  private states = new Map<string, InterfaceState>();
  private disposers: (() => Promise<void>)[] = [];
  private readonly names = new Set<string>();
  private running = false;
  private readonly onConnect = () => void this.refreshAll();

  constructor(
    private readonly client: UbusClient,
    interfaces: string[],
  ) {
    super();
    for (const n of interfaces) this.names.add(n);
  }

  /** Follows a new set of interfaces (after a config reload): new ones are read at once. */
  setInterfaces(interfaces: string[]): void {
    const next = new Set(interfaces);
    for (const n of this.names) if (!next.has(n)) this.states.delete(n);
    const added = interfaces.filter((n) => !this.names.has(n));
    this.names.clear();
    for (const n of next) this.names.add(n);
    for (const n of added) void this.refresh(n);
  }

  get(name: string): InterfaceState | undefined {
    return this.states.get(name);
  }

  async start(): Promise<void> {
    if (this.running) return;
    this.running = true;
    this.client.on('connect', this.onConnect);
    this.disposers.push(
      await this.client.subscribe('network.interface', (type, data) => {
        const name = data.interface;
        if (typeof name !== 'string' || !this.names.has(name)) return;
        // interface.down carries the status after the fact (up: false); take it as it is.
        this.update(interfaceStateFromStatus(name, type === 'interface.down' ? { ...data, up: false } : data));
      }),
    );
    this.disposers.push(
      await this.client.listen('network.interface', (_ev, data) => {
        const name = data.interface;
        if (typeof name === 'string' && this.names.has(name)) void this.refresh(name);
      }),
    );
    // netifd (re)publishing an interface object, after its own or ubusd's restart: read it again.
    this.disposers.push(
      await this.client.listen('ubus.object.add', (_ev, data) => {
        const path = typeof data.path === 'string' ? data.path : '';
        const name = path.startsWith('network.interface.') ? path.slice('network.interface.'.length) : '';
        if (this.names.has(name)) void this.refresh(name);
      }),
    );
    await this.refreshAll();
  }

  async stop(): Promise<void> {
    this.running = false;
    this.client.off('connect', this.onConnect);
    const ds = this.disposers;
    this.disposers = [];
    await Promise.all(ds.map((d) => d().catch(() => undefined)));
  }

  private update(st: InterfaceState): void {
    if (same(this.states.get(st.interface), st)) return;
    this.states.set(st.interface, st);
    this.emit('change', st);
  }

  private async refreshAll(): Promise<void> {
    await Promise.all([...this.names].map((n) => this.refresh(n)));
  }

  /** Reads `network.interface.<name> status`; a missing interface counts as down. */
  async refresh(name: string): Promise<void> {
    if (!this.running || !this.client.connected) return;
    try {
      const s = await this.client.call(`network.interface.${name}`, 'status', {}, 5000);
      this.update(interfaceStateFromStatus(name, s ?? {}));
    } catch (e) {
      if (e instanceof UbusError && e.status === UbusStatus.NOT_FOUND) {
        this.update({ interface: name, up: false, addresses: [] });
        return;
      }
      if (this.listenerCount('error') > 0) this.emit('error', e as Error);
    }
  }
}
