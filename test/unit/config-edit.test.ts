// Editing a parsed config the way pairing does, then writing it back as uci would.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseUci } from '../../src/config/uci-parse.ts';
import { writeUci } from '../../src/config/uci-write.ts';
import {
  addListValue,
  addSection,
  deleteOption,
  emptyDocument,
  removeListValue,
  removeSection,
  setList,
  setOption,
} from '../../src/config/edit.ts';
import { loadConfigText } from '../../src/config/load.ts';

function parse(text: string) {
  const r = parseUci(text, '/etc/config/wanbond');
  assert.ok(r.ok);
  return r.doc;
}

test('set, replace, delete options in place; lists appended, converted, replaced, shrunk', () => {
  const doc = parse(`config globals 'globals'\n\toption enabled '0'\n\toption mode 'balance-rr'\n\tlist bypass_dst '10.0.0.0/8'\n`);
  setOption(doc, 'globals', 'enabled', '1');
  setOption(doc, 'globals', 'nat', '0');
  addListValue(doc, 'globals', 'bypass_dst', '192.168.0.0/16');
  addListValue(doc, 'globals', 'mode', 'x'); // an option turned list keeps its value first, as uci add_list does
  addSection(doc, 'link', 'wan');
  setOption(doc, 'wan', 'interface', 'wan');
  setList(doc, 'wan', 'peer', ["it's", 'b']);
  assert.equal(
    writeUci(doc),
    `package wanbond\n\nconfig globals 'globals'\n\toption enabled '1'\n\tlist mode 'balance-rr'\n\tlist mode 'x'\n\tlist bypass_dst '10.0.0.0/8'\n\tlist bypass_dst '192.168.0.0/16'\n\toption nat '0'\n\nconfig link 'wan'\n\toption interface 'wan'\n\tlist peer 'it'\\''s'\n\tlist peer 'b'\n\n`,
  );
  assert.equal(removeListValue(doc, 'globals', 'mode', 'x'), 1);
  assert.equal(deleteOption(doc, 'globals', 'nat'), true);
  assert.equal(deleteOption(doc, 'globals', 'nat'), false);
  setOption(doc, 'globals', 'enabled', ''); // empty deletes, as `uci set x=''` does
  setList(doc, 'wan', 'peer', []);
  assert.equal(removeSection(doc, 'wan'), true);
  assert.equal(removeSection(doc, 'wan'), false);
  assert.equal(writeUci(doc), `package wanbond\n\nconfig globals 'globals'\n\tlist mode 'balance-rr'\n\tlist bypass_dst '10.0.0.0/8'\n\tlist bypass_dst '192.168.0.0/16'\n\n`);
});

test('a config built with the helpers loads back as the intended Config', () => {
  const doc = emptyDocument();
  addSection(doc, 'globals', 'globals');
  setOption(doc, 'globals', 'role', 'concentrator');
  addSection(doc, 'site', 'farm');
  setOption(doc, 'farm', 'subnet', '10.213.7.0/24');
  addListValue(doc, 'farm', 'peer', '1:wan:OGWQX6oK+cF6HOvdDETnc6PAx0z8EJ0dhRm7y6L+oxc=');
  const anon = addSection(doc, 'health');
  setOption(doc, anon.name, 'interval', '0.5');
  const r = loadConfigText(writeUci(doc), '/etc/config/wanbond');
  assert.ok(r.ok);
  assert.equal(r.config.health.interval, 0.5);
  assert.deepEqual(r.config.sites[0]!.peers, [{ id: 1, name: 'wan', public_key: 'OGWQX6oK+cF6HOvdDETnc6PAx0z8EJ0dhRm7y6L+oxc=' }]);
  // The anonymous section's name is the one uci would give it on reading the written file.
  const reread = parseUci(writeUci(doc), '/etc/config/wanbond');
  assert.ok(reread.ok);
  assert.equal(reread.doc.sections[2]!.name, anon.name);
});

test('helpers refuse what uci would refuse', () => {
  const doc = emptyDocument();
  addSection(doc, 'link', 'wan');
  assert.throws(() => addSection(doc, 'site', 'wan'), /exists with type 'link'/);
  assert.equal(addSection(doc, 'link', 'wan'), doc.sections[0]);
  assert.throws(() => addSection(doc, 'link', 'wan-2'), /invalid section name/);
  assert.throws(() => setOption(doc, 'wan', 'bad name', 'x'), /invalid option name/);
  assert.throws(() => setOption(doc, 'nope', 'x', 'y'), /no section 'nope'/);
});
