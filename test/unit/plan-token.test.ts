// Pairing tokens: round trip, and every kind of damage refused with a message.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PairReply, PairRequest, decodeToken, encodeToken, newNonce } from '../../src/pair/token.ts';

const KEY = 'a'.repeat(42) + 'E=';
const req: PairRequest = { v: 1, t: 'pair', site: 'home', links: [{ id: 1, name: 'lte1', public_key: KEY }, { id: 2, name: 'dsl', public_key: KEY }], nonce: newNonce() };

test('a pair request survives encode and decode unchanged', () => {
  const tok = encodeToken(req);
  assert.match(tok, /^[A-Za-z0-9_-]+$/);
  assert.deepEqual(decodeToken(tok, PairRequest, 'pairing'), { ok: true, value: req });
});

test('truncated, altered, foreign or wrong-kind tokens are refused with a reason', () => {
  const tok = encodeToken(req);
  const bad = (t: string) => {
    const r = decodeToken(t, PairRequest, 'pairing');
    assert.equal(r.ok, false);
    return r.ok ? '' : r.error;
  };
  assert.match(bad(tok.slice(0, -7)), /damaged|truncated/);
  const json = JSON.parse(Buffer.from(tok, 'base64url').toString());
  json.links[0].public_key = 'b'.repeat(42) + 'E=';
  assert.match(bad(Buffer.from(JSON.stringify(json)).toString('base64url')), /checksum/);
  assert.match(bad('hello world'), /not a wanbond/);
  const reply = encodeToken({ v: 1, t: 'reply', site: 'home', host: 'vps.example.net', port: 51820, public_key: KEY, subnet: '10.213.1.0/24', nonce: req.nonce });
  assert.match(bad(reply), /not a valid pairing token/);
  assert.equal(decodeToken(reply, PairReply, 'reply').ok, true);
  // A checksum recomputed over a body that breaks the schema still fails validation.
  const evil = encodeToken({ ...req, site: 'x; rm -rf /' } as PairRequest);
  assert.match(bad(evil), /site: not a valid name/);
});
