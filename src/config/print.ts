// The effective config (defaults filled in) as a UCI document, for `check-config --print`.

import { addListValue, addSection, emptyDocument, setOption } from './edit.ts';
import type { Config } from './types.ts';
import type { UciDocument } from './uci-document.ts';

type Value = string | number | boolean | string[] | undefined;

function put(doc: UciDocument, section: string, values: Record<string, Value>): void {
  for (const [name, v] of Object.entries(values)) {
    if (v === undefined) continue;
    if (Array.isArray(v)) for (const item of v) addListValue(doc, section, name, item);
    else if (typeof v === 'boolean') setOption(doc, section, name, v ? '1' : '0');
    else setOption(doc, section, name, String(v));
  }
}

/** Every option with its effective value; `public_interface ''` and other empties are left out. */
export function configToDocument(config: Config, options: { hideSecrets?: boolean } = {}): UciDocument {
  const doc = emptyDocument();
  addSection(doc, 'globals', 'globals');
  put(doc, 'globals', { ...config.globals });
  if (config.concentrator) {
    addSection(doc, 'concentrator', 'concentrator');
    put(doc, 'concentrator', { ...config.concentrator });
  }
  for (const link of config.links) {
    addSection(doc, 'link', link.name);
    const { name: _name, ...rest } = link;
    put(doc, link.name, rest);
  }
  addSection(doc, 'health', 'health');
  put(doc, 'health', { ...config.health });
  for (const site of config.sites) {
    addSection(doc, 'site', site.name);
    const { name: _name, peers, ...rest } = site;
    put(doc, site.name, { ...rest, peer: peers.map((p) => `${p.id}:${p.name}:${p.public_key}`) });
  }
  addSection(doc, 'mqtt', 'mqtt');
  const { password, ...mqtt } = config.mqtt;
  put(doc, 'mqtt', { ...mqtt, password: password !== undefined && options.hideSecrets ? '(hidden)' : password });
  return doc;
}
