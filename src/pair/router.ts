// Router half of pairing: the reply token completes the `config concentrator` section.
import { addSection, setOption } from '../config/edit.ts';
import type { UciDocument } from '../config/uci-document.ts';
import { sectionOfType } from './configfile.ts';
import type { PairReply } from './token.ts';

/**
 * Router side: the reply completes (or replaces) the `config concentrator` section and enables
 * the router (an enabled router without a concentrator is not a valid config, so an unpaired
 * one is disabled).
 */
export function applyReplyToDoc(doc: UciDocument, reply: PairReply): void {
  const g = sectionOfType(doc, 'globals', addSection);
  setOption(doc, g, 'enabled', '1');
  setOption(doc, g, 'role', 'router');
  const c = sectionOfType(doc, 'concentrator', addSection);
  setOption(doc, c, 'host', reply.host);
  setOption(doc, c, 'port', String(reply.port));
  setOption(doc, c, 'public_key', reply.public_key);
  setOption(doc, c, 'site', reply.site);
  setOption(doc, c, 'subnet', reply.subnet);
}
