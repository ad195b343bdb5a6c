// The three pairing steps as the commands run them: read, check, edit, validate, write, print.
// A refused token leaves the config, the keys and the pairing state exactly as they were.
import { hostname } from 'node:os';
import { execa } from 'execa';
import { DEFAULT_PAIR_STATE, readNonces, writeNonces } from './nonces.ts';
import { applyReplyToDoc } from './router.ts';
import { addSiteToDoc } from './concentrator.ts';
import { openConfig, saveConfig } from './configfile.ts';
import { PairReply, PairRequest, decodeToken, encodeToken, newNonce } from './token.ts';
import { ensureKey, publicKeyOf } from '../kernel/keys.ts';

export type FlowResult = { ok: true; token?: string; message: string } | { ok: false; error: string };

const fail = (error: string): FlowResult => ({ ok: false, error });

export function defaultSiteName(): string {
  const n = hostname().replace(/[^A-Za-z0-9_]/g, '_').slice(0, 12);
  return n || 'site';
}

/** Router: keys for every enabled link, one token for the concentrator's admin. */
export async function pairRequest(configPath: string, opts: { site?: string; statePath?: string }): Promise<FlowResult> {
  const o = openConfig(configPath);
  if (!o.ok) return fail(o.errors.join('\n'));
  const cfg = o.config;
  if (!cfg) return fail(`${configPath} does not exist: configure the links first`);
  if (cfg.globals.role !== 'router') return fail('pair runs on the router (role router); on the concentrator use: wanbond site add <token>');
  const links = cfg.links.filter((l) => l.enabled);
  if (!links.length) return fail(`${configPath} has no enabled link to pair`);
  const site = opts.site ?? cfg.concentrator?.site ?? defaultSiteName();
  if (!/^[A-Za-z0-9_]{1,12}$/.test(site)) return fail(`site name '${site}' must be 1-12 letters, digits or _ (use --site NAME)`);
  const out = [];
  for (const l of links) {
    await ensureKey(l.private_key_file);
    out.push({ id: l.id, name: l.name, public_key: await publicKeyOf(l.private_key_file) });
  }
  const nonce = newNonce();
  const statePath = opts.statePath ?? DEFAULT_PAIR_STATE;
  const st = readNonces(statePath);
  st.pending.push({ nonce, site });
  writeNonces(statePath, st);
  return { ok: true, token: encodeToken({ v: 1, t: 'pair', site, links: out, nonce }), message: `site ${site}, ${out.length} link(s): run on the concentrator: wanbond site add <token>` };
}

async function publicAddress(): Promise<string | undefined> {
  const r = await execa('ip', ['-j', 'route', 'get', '1.1.1.1'], { reject: false, timeout: 5000 });
  try {
    return (JSON.parse(String(r.stdout)) as { prefsrc?: string }[])[0]?.prefsrc;
  } catch {
    return undefined;
  }
}

/** Concentrator: the router's token becomes a site; prints the reply token. */
export async function siteAdd(configPath: string, token: string, opts: { host?: string; statePath?: string }): Promise<FlowResult> {
  const d = decodeToken(token, PairRequest, 'pairing');
  if (!d.ok) return fail(d.error);
  const statePath = opts.statePath ?? DEFAULT_PAIR_STATE;
  const st = readNonces(statePath);
  if (st.used.includes(d.value.nonce)) return fail('this pairing token was used already (replayed): run wanbond pair on the router again for a new one');
  const o = openConfig(configPath);
  if (!o.ok) return fail(`the config has errors; fix them first:\n${o.errors.join('\n')}`);
  const host = opts.host ?? (await publicAddress());
  if (!host) return fail('cannot tell this server\'s public address: give it with --host NAME_OR_IP');
  const added = addSiteToDoc(o.doc, o.config, d.value);
  if (!added.ok) return fail(added.error);
  const saved = saveConfig(configPath, o.doc);
  if (!saved.ok) return fail(`the new site would make the config invalid, nothing written:\n${saved.errors.join('\n')}`);
  const g = saved.config.globals;
  await ensureKey(g.private_key_file);
  const reply: PairReply = { v: 1, t: 'reply', site: d.value.site, host, port: g.listen_port, public_key: await publicKeyOf(g.private_key_file), subnet: added.subnet, nonce: d.value.nonce };
  st.used.push(d.value.nonce);
  writeNonces(statePath, st);
  return { ok: true, token: encodeToken(reply), message: `site ${d.value.site} added (${d.value.links.length} link(s), subnet ${added.subnet}); on the router run: wanbond pair --accept <token>` };
}

/** Router: the concentrator's reply completes the config. */
export async function pairAccept(configPath: string, token: string, opts: { statePath?: string }): Promise<FlowResult> {
  const d = decodeToken(token, PairReply, 'reply');
  if (!d.ok) return fail(d.error);
  const statePath = opts.statePath ?? DEFAULT_PAIR_STATE;
  const st = readNonces(statePath);
  if (st.used.includes(d.value.nonce)) return fail('this reply token was used already (replayed)');
  const pending = st.pending.find((p) => p.nonce === d.value.nonce);
  if (!pending) return fail('this reply does not answer a pairing request made on this router: run wanbond pair and use the reply to that token');
  if (pending.site !== d.value.site) return fail(`this reply is for site ${d.value.site}, the request was for site ${pending.site}`);
  const o = openConfig(configPath);
  if (!o.ok) return fail(`the config has errors; fix them first:\n${o.errors.join('\n')}`);
  if (o.config && o.config.globals.role !== 'router') return fail('pair --accept runs on the router (role router)');
  applyReplyToDoc(o.doc, d.value);
  const saved = saveConfig(configPath, o.doc);
  if (!saved.ok) return fail(`the reply would make the config invalid, nothing written:\n${saved.errors.join('\n')}`);
  st.pending = st.pending.filter((p) => p.nonce !== d.value.nonce);
  st.used.push(d.value.nonce);
  writeNonces(statePath, st);
  return { ok: true, message: `paired: site ${d.value.site} on ${d.value.host}:${d.value.port}, subnet ${d.value.subnet}. Start it: wanbond apply (or reload the running agent)` };
}
