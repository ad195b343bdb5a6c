// Second pass: assembles the typed Config from the checked sections, fills in defaults and
// applies the rules that span options and sections (what an enabled router needs, ids and
// names that must not collide, thresholds that must agree), reporting each at its line.

import {
  CONCENTRATOR_DEFAULTS,
  GLOBALS_DEFAULTS,
  HEALTH_DEFAULTS,
  LINK_DEFAULTS,
  LINK_NAME_MAX,
  linkKeyFile,
  MAX_LINKS,
  MQTT_DEFAULTS,
  SITE_DEFAULTS,
} from './defaults.ts';
import { lineOf, type Problems, type SectionRecord } from './sections.ts';
import type { Concentrator, Config, Globals, Health, Link, Mqtt, Site, SitePeer } from './types.ts';
import { quote } from './errors.ts';
import { checkSectionName, checkWireguardKey, cidrsOverlap, parseIPv4Cidr } from './validators.ts';

function get<T>(rec: SectionRecord | undefined, name: string, fallback: T): T {
  return rec?.values.has(name) ? (rec.values.get(name) as T) : fallback;
}
function opt<T>(rec: SectionRecord, name: string): T | undefined {
  return rec.values.get(name) as T | undefined;
}
/** `{ name: value }` when the option is set, `{}` otherwise: unset optional fields stay absent. */
function some(rec: SectionRecord, name: string): Record<string, unknown> {
  return rec.values.has(name) ? { [name]: rec.values.get(name) } : {};
}

export function assemble(byType: Map<string, SectionRecord[]>, problems: Problems): Config {
  const g = byType.get('globals')?.[0];
  const globals: Globals = {
    enabled: get(g, 'enabled', GLOBALS_DEFAULTS.enabled),
    role: get(g, 'role', GLOBALS_DEFAULTS.role),
    mode: get(g, 'mode', GLOBALS_DEFAULTS.mode),
    mtu: get(g, 'mtu', GLOBALS_DEFAULTS.mtu),
    log_level: get(g, 'log_level', GLOBALS_DEFAULTS.log_level),
    fallback: get(g, 'fallback', GLOBALS_DEFAULTS.fallback),
    fallback_timeout: get(g, 'fallback_timeout', GLOBALS_DEFAULTS.fallback_timeout),
    nat: get(g, 'nat', GLOBALS_DEFAULTS.nat),
    shaping: get(g, 'shaping', GLOBALS_DEFAULTS.shaping),
    express_bytes: get(g, 'express_bytes', GLOBALS_DEFAULTS.express_bytes),
    bypass_dst: get(g, 'bypass_dst', [...GLOBALS_DEFAULTS.bypass_dst]),
    bypass_src: get(g, 'bypass_src', [...GLOBALS_DEFAULTS.bypass_src]),
    listen_port: get(g, 'listen_port', GLOBALS_DEFAULTS.listen_port),
    private_key_file: get(g, 'private_key_file', GLOBALS_DEFAULTS.private_key_file),
    public_interface: get(g, 'public_interface', GLOBALS_DEFAULTS.public_interface),
  };
  const links = checkLinks(byType.get('link') ?? [], problems);
  const concentrator = checkConcentrator(byType.get('concentrator')?.[0], globals, g, links, problems);
  const health = checkHealth(byType.get('health')?.[0], problems);
  const sites = checkSites(byType.get('site') ?? [], globals, problems);
  const mqtt = checkMqtt(byType.get('mqtt')?.[0], problems);
  return { globals, ...(concentrator ? { concentrator } : {}), links, health, sites, mqtt };
}

const CONCENTRATOR_NEEDS = ['host', 'public_key', 'site', 'subnet'] as const;

function checkConcentrator(
  c: SectionRecord | undefined,
  globals: Globals,
  g: SectionRecord | undefined,
  links: Link[],
  problems: Problems,
): Concentrator | undefined {
  const activeRouter = globals.enabled && globals.role === 'router';
  if (activeRouter && g && !links.some((l) => l.enabled)) {
    problems.at(g, 'enabled', `an enabled router needs at least one enabled 'config link'`);
  }
  if (c?.values.has('subnet')) {
    const subnet = opt<string>(c, 'subnet')!;
    if (parseIPv4Cidr(subnet)?.prefix !== 24) problems.at(c, 'subnet', `'${subnet}' must be a /24 (the site's tunnel network, e.g. 10.213.7.0/24)`);
  }
  if (!c) {
    if (activeRouter && g) {
      problems.at(g, 'enabled', `an enabled router needs a 'config concentrator' section (host, port, public_key, site, subnet)`);
    }
    return undefined;
  }
  if (activeRouter) {
    for (const name of CONCENTRATOR_NEEDS) {
      if (!c.present.has(name)) problems.at(c, name, `missing: an enabled router needs the concentrator's ${name}`);
    }
  }
  if (!CONCENTRATOR_NEEDS.every((n) => c.values.has(n))) return undefined;
  return {
    host: opt<string>(c, 'host')!,
    port: get(c, 'port', CONCENTRATOR_DEFAULTS.port),
    public_key: opt<string>(c, 'public_key')!,
    site: opt<string>(c, 'site')!,
    subnet: opt<string>(c, 'subnet')!,
  };
}

function checkLinks(recs: SectionRecord[], problems: Problems): Link[] {
  const byId = new Map<number, SectionRecord>();
  const byInterface = new Map<string, SectionRecord>();
  const byDevice = new Map<string, SectionRecord>();
  recs.forEach((rec, index) => {
    const name = rec.section.name;
    const bad = checkSectionName(LINK_NAME_MAX)(name);
    if (bad) problems.at(rec, undefined, `link name ${bad}`);
    if (index === MAX_LINKS) problems.at(rec, undefined, `more than ${MAX_LINKS} links (wanbond bonds at most ${MAX_LINKS})`);
    const has = (o: string) => rec.present.has(o);
    if (has('interface') && (has('device') || has('gateway'))) {
      problems.at(rec, has('device') ? 'device' : 'gateway', `set either 'interface' (the netifd interface) or 'device' + 'gateway', not both`);
    } else if (!has('interface') && !has('device') && !has('gateway')) {
      problems.at(rec, undefined, `needs 'option interface' (the netifd interface, as mwan3 names it) or 'option device' + 'option gateway'`);
    } else if (has('device') && !has('gateway')) {
      problems.at(rec, 'device', `needs 'option gateway' too (the next hop on that device)`);
    } else if (has('gateway') && !has('device')) {
      problems.at(rec, 'gateway', `needs 'option device' too (the device the gateway is on)`);
    }
    const id = opt<number>(rec, 'id');
    if (id !== undefined) {
      const other = byId.get(id);
      if (other) problems.at(rec, 'id', `id ${id} is already used by link '${other.section.name}' (line ${lineOf(other, 'id')})`);
      else byId.set(id, rec);
    }
    for (const [option, seen] of [['interface', byInterface], ['device', byDevice]] as const) {
      const value = opt<string>(rec, option);
      if (value === undefined) continue;
      const other = seen.get(value);
      if (other) problems.at(rec, option, `${option} '${value}' is already used by link '${other.section.name}' (line ${lineOf(other, option)})`);
      else seen.set(value, rec);
    }
  });
  // Links without an id get the lowest free one, in order of appearance.
  const taken = new Set(byId.keys());
  let next = 1;
  return recs.map((rec) => {
    let id = opt<number>(rec, 'id');
    if (id === undefined) {
      while (taken.has(next)) next++;
      id = next;
      taken.add(id);
    }
    const name = rec.section.name;
    return {
      name,
      id,
      ...some(rec, 'interface'),
      ...some(rec, 'device'),
      ...some(rec, 'gateway'),
      enabled: get(rec, 'enabled', LINK_DEFAULTS.enabled),
      weight: get(rec, 'weight', LINK_DEFAULTS.weight),
      ...some(rec, 'rate_down'),
      ...some(rec, 'rate_up'),
      role: get(rec, 'role', LINK_DEFAULTS.role),
      private_key_file: get(rec, 'private_key_file', linkKeyFile(name)),
    } as Link;
  });
}

function checkHealth(h: SectionRecord | undefined, problems: Problems): Health {
  const health: Health = {
    interval: get(h, 'interval', HEALTH_DEFAULTS.interval),
    failure_latency: get(h, 'failure_latency', HEALTH_DEFAULTS.failure_latency),
    recovery_latency: get(h, 'recovery_latency', HEALTH_DEFAULTS.recovery_latency),
    failure_loss: get(h, 'failure_loss', HEALTH_DEFAULTS.failure_loss),
    recovery_loss: get(h, 'recovery_loss', HEALTH_DEFAULTS.recovery_loss),
    down: get(h, 'down', HEALTH_DEFAULTS.down),
    up: get(h, 'up', HEALTH_DEFAULTS.up),
  };
  if (!h) return health;
  const pairs = [
    ['recovery_latency', 'failure_latency', 'ms'],
    ['recovery_loss', 'failure_loss', '%'],
  ] as const;
  for (const [recovery, failure, unit] of pairs) {
    if (health[recovery] <= health[failure]) continue;
    const where = h.values.has(recovery) ? recovery : failure;
    problems.at(h, where,
      `${recovery} (${health[recovery]} ${unit}) must not exceed ${failure} (${health[failure]} ${unit}): a link must be better to come back than to stay`);
  }
  return health;
}

/** `list peer '<id>:<name>:<public_key>'`: one router link allowed into a site. */
function parsePeer(text: string): SitePeer | string {
  const parts = text.split(':');
  if (parts.length !== 3) return `${quote(text)} is not '<link id>:<link name>:<public key>'`;
  const [id, name, key] = parts as [string, string, string];
  if (!/^([1-9]|1[0-6])$/.test(id)) return `peer ${quote(text)}: link id ${quote(id)} is not 1..16`;
  const badName = checkSectionName(LINK_NAME_MAX)(name);
  if (badName) return `peer ${quote(text)}: link name ${badName}`;
  const badKey = checkWireguardKey(key);
  if (badKey) return `peer '${id}:${name}:…': public key ${badKey}`;
  return { id: Number(id), name, public_key: key };
}

function checkSites(recs: SectionRecord[], globals: Globals, problems: Problems): Site[] {
  const keys = new Map<string, string>();
  const subnets: { subnet: string; rec: SectionRecord }[] = [];
  const sites: Site[] = [];
  for (const rec of recs) {
    const name = rec.section.name;
    const bad = checkSectionName(LINK_NAME_MAX)(name);
    if (bad) problems.at(rec, undefined, `site name ${bad}`);
    const subnet = opt<string>(rec, 'subnet');
    if (!rec.present.has('subnet')) problems.at(rec, 'subnet', `missing: every site needs its tunnel /24 (the router's concentrator.subnet)`);
    if (subnet !== undefined) {
      if (parseIPv4Cidr(subnet)?.prefix !== 24) problems.at(rec, 'subnet', `'${subnet}' must be a /24 (the site's tunnel network)`);
      const clash = subnets.find((s) => cidrsOverlap(s.subnet, subnet));
      if (clash) problems.at(rec, 'subnet', `'${subnet}' overlaps site '${clash.rec.section.name}' (${clash.subnet})`);
      subnets.push({ subnet, rec });
    }
    const peers: SitePeer[] = [];
    const entry = rec.section.options.find((o) => o.name === 'peer');
    const items = !entry ? [] : entry.kind === 'list' ? entry.values.map((v, i) => [v, entry.lines[i]!] as const) : [[entry.value, entry.line] as const];
    for (const [text, line] of items) {
      const peer = parsePeer(text);
      if (typeof peer === 'string') {
        problems.add(line, peer, rec.label, 'peer');
        continue;
      }
      const sameId = peers.find((p) => p.id === peer.id);
      const sameName = peers.find((p) => p.name === peer.name);
      const owner = keys.get(peer.public_key);
      if (sameId) problems.add(line, `link id ${peer.id} is listed twice (also for '${sameId.name}')`, rec.label, 'peer');
      else if (sameName) problems.add(line, `link name '${peer.name}' is listed twice`, rec.label, 'peer');
      else if (owner) problems.add(line, `public key of '${peer.id}:${peer.name}' is already used by ${owner}`, rec.label, 'peer');
      else {
        keys.set(peer.public_key, `site '${name}' link '${peer.name}'`);
        peers.push(peer);
      }
    }
    sites.push({
      name,
      enabled: get(rec, 'enabled', SITE_DEFAULTS.enabled),
      subnet: subnet ?? '',
      mode: get(rec, 'mode', globals.mode),
      peers,
      lan: get(rec, 'lan', []),
      ...some(rec, 'routed_prefix'),
    } as Site);
  }
  return sites;
}

function checkMqtt(m: SectionRecord | undefined, problems: Problems): Mqtt {
  const base = { ...MQTT_DEFAULTS };
  if (!m) return base;
  const mqtt = {
    enabled: get(m, 'enabled', base.enabled),
    broker: get(m, 'broker', base.broker),
    ...some(m, 'username'),
    ...some(m, 'password'),
    ...some(m, 'password_file'),
    ...some(m, 'client_id'),
    ...some(m, 'topic_prefix'),
    interval: get(m, 'interval', base.interval),
    qos: get(m, 'qos', base.qos),
    ...some(m, 'ca_file'),
    insecure: get(m, 'insecure', base.insecure),
    ha_discovery: get(m, 'ha_discovery', base.ha_discovery),
    ha_prefix: get(m, 'ha_prefix', base.ha_prefix),
  } as Mqtt;
  if (mqtt.enabled && !m.present.has('broker')) problems.at(m, 'broker', 'missing: enabled MQTT needs a broker URL (mqtt://host:1883)');
  if (m.present.has('password') && m.present.has('password_file')) {
    problems.at(m, 'password_file', `set 'password' or 'password_file', not both`);
  }
  if (m.present.has('password') || m.present.has('password_file')) {
    if (!m.present.has('username')) problems.at(m, m.present.has('password') ? 'password' : 'password_file', `a password needs 'option username' too`);
  }
  const scheme = /^([a-z]+):/i.exec(mqtt.broker)?.[1]?.toLowerCase();
  if (m.values.has('ca_file') && scheme !== undefined && scheme !== 'mqtts' && scheme !== 'wss') {
    problems.at(m, 'ca_file', `only applies to mqtts:// or wss:// brokers (the broker is ${scheme}://)`);
  }
  return mqtt;
}
