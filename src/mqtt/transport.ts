// Builds an mqtt.js client on our own socket: plain TCP and TLS straight from node, WebSocket
// through mqtt.js's ws stream. Going around mqtt.connect() keeps its SOCKS-proxy and browser
// transports (about 85 KB) out of the single-file bundle the router has to hold.
import net from 'node:net';
import tls from 'node:tls';
import type { IClientOptions, MqttClient } from 'mqtt';
import * as clientModule from 'mqtt/lib/client';
import { streamBuilder as wsStream } from 'mqtt/lib/connect/ws';
import type { MqttOptions } from './options.ts';

// A CommonJS module with `exports.default`: seen from ESM (node, and esbuild in node mode) the
// class sits one `.default` deeper than TypeScript thinks.
type ClientClass = new (build: (c: MqttClient) => unknown, o: IClientOptions) => MqttClient;
const mod = clientModule as unknown as { default: ClientClass | { default: ClientClass } };
const Client: ClientClass = 'default' in mod.default ? mod.default.default : mod.default;

const DEFAULT_PORT = { mqtt: 1883, mqtts: 8883, ws: 80, wss: 443 } as const;

export function createClient(o: MqttOptions, options: IClientOptions): MqttClient {
  const url = new URL(o.url);
  const hostname = url.hostname; // IPv6 literals keep their brackets here, as a URL needs them
  const host = hostname.replace(/^\[(.*)\]$/, '$1');
  const port = Number(url.port) || DEFAULT_PORT[o.protocol];
  const build = (client: MqttClient) => {
    if (o.protocol === 'mqtt') return net.createConnection({ host, port });
    if (o.protocol === 'mqtts') {
      return tls.connect({
        host, port, ca: o.ca, rejectUnauthorized: o.rejectUnauthorized,
        servername: net.isIP(host) ? undefined : host,
      });
    }
    return wsStream(client, {
      ...options, protocol: o.protocol, hostname, port, path: `${url.pathname}${url.search}`,
      ca: o.ca, rejectUnauthorized: o.rejectUnauthorized,
    });
  };
  return new Client(build, { ...options, protocol: o.protocol });
}
