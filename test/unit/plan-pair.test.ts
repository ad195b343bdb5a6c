// Pairing edits to the UCI documents, checked by the real config loader (no keys, no files).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadConfigText, validateDocument } from '../../src/config/load.ts';
import { emptyDocument } from '../../src/config/edit.ts';
import { writeUci } from '../../src/config/uci-write.ts';
import { addSiteToDoc, freeSubnet, removeSiteFromDoc } from '../../src/pair/concentrator.ts';
import { applyReplyToDoc } from '../../src/pair/router.ts';
import type { PairRequest } from '../../src/pair/token.ts';

const KEY = (c: string) => c.repeat(42) + 'E=';
const req = (site: string, key = 'a'): PairRequest => ({ v: 1, t: 'pair', site, nonce: 'n'.repeat(22), links: [{ id: 1, name: 'lte1', public_key: KEY(key) }, { id: 2, name: 'dsl', public_key: KEY(key.toUpperCase()) }] });

test('site add on an empty concentrator config: globals, the site, its peers, the first subnet', () => {
  const doc = emptyDocument();
  const r = addSiteToDoc(doc, undefined, req('home'));
  assert.deepEqual(r, { ok: true, subnet: '10.213.1.0/24' });
  const v = validateDocument(doc, 'wanbond');
  assert.ok(v.ok, JSON.stringify(!v.ok && v.errors));
  assert.equal(v.config.globals.role, 'concentrator');
  assert.deepEqual(v.config.sites.map((s) => [s.name, s.subnet, s.peers.map((p) => `${p.id}:${p.name}`)]), [['home', '10.213.1.0/24', ['1:lte1', '2:dsl']]]);
  // Round trip through text: what is written loads back the same.
  const again = loadConfigText(writeUci(doc), 'wanbond');
  assert.ok(again.ok);
  assert.deepEqual(again.config.sites, v.config.sites);
});

test('a second site gets the next free subnet; a duplicate name or key is refused and changes nothing', () => {
  const doc = emptyDocument();
  addSiteToDoc(doc, undefined, req('home'));
  const cfg = validateDocument(doc, 'w');
  assert.ok(cfg.ok);
  assert.deepEqual(addSiteToDoc(doc, cfg.config, req('shop', 'b')), { ok: true, subnet: '10.213.2.0/24' });
  const cfg2 = validateDocument(doc, 'w');
  assert.ok(cfg2.ok);
  const before = writeUci(doc);
  const dupName = addSiteToDoc(doc, cfg2.config, req('home', 'c'));
  assert.equal(dupName.ok, false);
  assert.match(!dupName.ok ? dupName.error : '', /exists already/);
  const dupKey = addSiteToDoc(doc, cfg2.config, req('cafe', 'b'));
  assert.match(!dupKey.ok ? dupKey.error : '', /already a peer of site shop/);
  assert.equal(writeUci(doc), before);
  assert.equal(removeSiteFromDoc(doc, 'home'), true);
  const cfg3 = validateDocument(doc, 'w');
  assert.ok(cfg3.ok);
  assert.equal(freeSubnet(cfg3.config.sites), '10.213.1.0/24');
});

test('the reply completes an unpaired (disabled) router config and enables it', () => {
  const text = "config globals\n\toption role 'router'\n\nconfig link 'lte1'\n\toption id '1'\n\toption device 'wwan0'\n\toption gateway '10.0.0.1'\n";
  const r = loadConfigText(text, 'wanbond');
  assert.ok(r.ok);
  applyReplyToDoc(r.doc, { v: 1, t: 'reply', site: 'home', host: 'vps.example.net', port: 51999, public_key: KEY('z'), subnet: '10.213.4.0/24', nonce: 'n'.repeat(22) });
  const v = validateDocument(r.doc, 'wanbond');
  assert.ok(v.ok, JSON.stringify(!v.ok && v.errors));
  assert.equal(v.config.globals.enabled, true);
  assert.deepEqual(v.config.concentrator, { host: 'vps.example.net', port: 51999, public_key: KEY('z'), site: 'home', subnet: '10.213.4.0/24' });
});
