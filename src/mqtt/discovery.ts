// Home Assistant MQTT discovery: retained config messages under
// <ha_prefix>/<component>/<node_id>/<object_id>/config that make the router and each WAN link
// show up as devices, with no YAML on the Home Assistant side.
//
// Layout: one "router" device per wanbond router (bond totals, concentrator, fallback, alerts)
// and one device per link, linked to it by `via_device`. Home Assistant then shows each modem
// as its own card (connectivity, RTT, jitter, loss, download, upload) and lists the links under
// the router's "connected devices"; removing a link removes its device with its entities.
import * as z from 'zod';
import type { LinkStatus, Status } from '../status/types.ts';
import { ALERT_TYPES } from './alerts.ts';
import type { Topics } from './topics.ts';

export interface DiscoveryContext {
  haPrefix: string;
  nodeId: string;
  hostname: string;
  version: string;
  topics: Topics;
}

type Entity = Record<string, unknown> & { component: string; object_id: string };

/** What this router last said it announced (its own retained topic), read back on connect. */
export const Announced = z.object({ topics: z.array(z.string()) });

function routerDevice(ctx: DiscoveryContext, status: Status) {
  return {
    identifiers: [ctx.nodeId],
    name: `${ctx.hostname} wanbond`,
    manufacturer: 'wanbond',
    model: status.globals.role === 'concentrator' ? 'wanbond concentrator' : 'wanbond router',
    sw_version: ctx.version,
  };
}

function linkDevice(ctx: DiscoveryContext, link: LinkStatus) {
  return {
    identifiers: [`${ctx.nodeId}_link_${link.name}`],
    name: `${ctx.hostname} ${link.name}`,
    manufacturer: 'wanbond',
    model: 'WAN link',
    sw_version: ctx.version,
    via_device: ctx.nodeId,
  };
}

// Numbers that are null in the state render as "None", which Home Assistant's MQTT sensor takes
// as "unknown" rather than an error.
const num = (path: string) => `{{ value_json.${path} }}`;

function linkEntities(ctx: DiscoveryContext, link: LinkStatus): Entity[] {
  const state = ctx.topics.linkState(link.name);
  const id = `link_${link.name}`;
  const measure = (key: string, name: string, path: string, extra: Record<string, unknown>): Entity => ({
    component: 'sensor',
    object_id: `${id}_${key}`,
    name,
    state_topic: state,
    value_template: num(path),
    state_class: 'measurement',
    ...extra,
  });
  return [
    {
      component: 'binary_sensor',
      object_id: `${id}_connectivity`,
      name: null, // the device's own name: "<host> <link>" is Connected / Disconnected
      device_class: 'connectivity',
      state_topic: state,
      value_template: "{{ 'ON' if value_json.online else 'OFF' }}",
      // Every LinkStatus field (status, reason, since, in_bond, express, ...) as an attribute, for automations.
      json_attributes_topic: state,
    },
    {
      component: 'sensor',
      object_id: `${id}_status`,
      name: 'Status',
      device_class: 'enum',
      options: ['up', 'degraded', 'down', 'disabled', 'backup'],
      state_topic: state,
      value_template: '{{ value_json.status }}',
    },
    measure('rtt', 'RTT', 'rtt_ms', { device_class: 'duration', unit_of_measurement: 'ms', suggested_display_precision: 0 }),
    measure('jitter', 'Jitter', 'jitter_ms', { device_class: 'duration', unit_of_measurement: 'ms', suggested_display_precision: 1 }),
    measure('loss', 'Packet loss', 'loss_pct', { unit_of_measurement: '%', icon: 'mdi:lan-disconnect', suggested_display_precision: 1 }),
    measure('download', 'Download', 'rx_rate_kbit', { device_class: 'data_rate', unit_of_measurement: 'kbit/s', suggested_display_precision: 0 }),
    measure('upload', 'Upload', 'tx_rate_kbit', { device_class: 'data_rate', unit_of_measurement: 'kbit/s', suggested_display_precision: 0 }),
  ].map((e) => ({ ...e, device: linkDevice(ctx, link) }));
}

function routerEntities(ctx: DiscoveryContext, status: Status): Entity[] {
  const state = ctx.topics.bondState;
  const rate = (key: string, name: string, path: string): Entity => ({
    component: 'sensor',
    object_id: `bond_${key}`,
    name,
    state_topic: state,
    value_template: num(path),
    device_class: 'data_rate',
    unit_of_measurement: 'kbit/s',
    state_class: 'measurement',
    suggested_display_precision: 0,
  });
  const list: Entity[] = [
    rate('download', 'Total download', 'bond.rx_rate_kbit'),
    rate('upload', 'Total upload', 'bond.tx_rate_kbit'),
    {
      component: 'sensor',
      object_id: 'bond_members',
      name: 'Links in bond',
      state_topic: state,
      value_template: '{{ value_json.bond.members | length }}',
      state_class: 'measurement',
      icon: 'mdi:link-variant',
      json_attributes_topic: state,
      json_attributes_template: '{{ value_json.bond | tojson }}',
    },
    {
      component: 'event',
      object_id: 'alert',
      name: 'Alert',
      state_topic: ctx.topics.alert,
      event_types: [...ALERT_TYPES],
      icon: 'mdi:bell-alert',
    },
  ];
  if (status.globals.role === 'router') {
    list.push(
      {
        component: 'binary_sensor',
        object_id: 'concentrator',
        name: 'Concentrator',
        device_class: 'connectivity',
        state_topic: state,
        value_template: "{{ 'ON' if value_json.concentrator.reachable else 'OFF' }}",
      },
      {
        component: 'binary_sensor',
        object_id: 'fallback',
        name: 'Fallback to direct WAN',
        device_class: 'problem',
        state_topic: state,
        value_template: "{{ 'ON' if value_json.fallback else 'OFF' }}",
      },
    );
  }
  return list.map((e) => ({ ...e, device: routerDevice(ctx, status) }));
}

/** Discovery topic -> retained config payload, for the router and every configured link. */
export function discoveryMessages(status: Status, ctx: DiscoveryContext): Map<string, string> {
  const out = new Map<string, string>();
  const origin = { name: 'wanbond', sw_version: ctx.version };
  for (const e of [...routerEntities(ctx, status), ...status.links.flatMap((l) => linkEntities(ctx, l))]) {
    const { component, object_id, ...rest } = e;
    const payload = {
      ...rest,
      unique_id: `${ctx.nodeId}_${object_id}`,
      availability_topic: ctx.topics.availability,
      payload_available: 'online',
      payload_not_available: 'offline',
      origin,
    };
    out.set(`${ctx.haPrefix}/${component}/${ctx.nodeId}/${object_id}/config`, JSON.stringify(payload));
  }
  return out;
}
