// Publishes the agent on ubus: the `wanbond` object and the `wanbond.link` / `wanbond.status`
// events. Starts even when ubusd is not up yet and follows it through restarts.
import type { AgentApi, StatusEvent } from '../agent/api.ts';
import { type Logger, silentLogger } from '../log.ts';
import type { LinkEvent } from '../status/types.ts';
import type { BlobmsgTable } from './blobmsg.ts';
import { UbusClient, type UbusObjectHandle } from './client.ts';
import { WANBOND_OBJECT, WANBOND_SIGNATURE, callWanbond } from './wanbond-object.ts';

export interface UbusFrontend {
  stop(): Promise<void>;
  readonly client: UbusClient;
}

export function startUbusFrontend(api: AgentApi, opts: { socketPath?: string; log?: Logger } = {}): UbusFrontend {
  const log = opts.log ?? silentLogger;
  const client = new UbusClient({ socketPath: opts.socketPath, log, reconnect: true, maxBackoffMs: 2000 });

  let handle: UbusObjectHandle | undefined;
  const registered = client
    .addObject(WANBOND_OBJECT, WANBOND_SIGNATURE, async (inv) => {
      const r = await callWanbond(api, inv.method, inv.args);
      if (r.status !== 0) log.debug(`ubus: ${WANBOND_OBJECT} ${inv.method} -> ${r.message ?? r.status}`);
      return { status: r.status, data: r.data };
    })
    .then((h) => {
      handle = h;
    })
    .catch((e: Error) => log.error(`ubus: cannot publish ${WANBOND_OBJECT}: ${e.message}`));

  // Each change goes out as an event (`ubus listen wanbond.*`) and, like netifd does, as a
  // notification to subscribers of the object (`ubus subscribe wanbond`).
  const send = (event: string, data: BlobmsgTable) => {
    if (!client.connected) return;
    client.send(event, data).catch((e: Error) => log.debug(`ubus: sending ${event}: ${e.message}`));
    handle?.notify(event, data); // ubusd drops it when nobody subscribed
  };
  const onLink = (e: LinkEvent) => send('wanbond.link', { link: e.link, from: e.from, to: e.to, reason: e.reason, rtt_ms: e.rtt_ms, loss_pct: e.loss_pct });
  const onStatus = (e: StatusEvent) =>
    send('wanbond.status', { kind: e.kind, members: e.members, reachable: e.reachable, fallback: e.fallback, reason: e.reason, time: e.time });
  api.events.on('link', onLink);
  api.events.on('status', onStatus);
  client.on('connect', () => log.info(`ubus: ${WANBOND_OBJECT} published on ${client.socketPath}`));
  client.start();

  return {
    client,
    async stop() {
      api.events.off('link', onLink);
      api.events.off('status', onStatus);
      await registered;
      await client.close();
    },
  };
}
