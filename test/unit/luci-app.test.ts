// Static checks of luci-app-wanbond: its JSON files parse, every ubus call a view declares is
// granted by the app's ACL and served by the object it names (the agent's `wanbond` object, or
// netifd's), the ACL gives readers only the read methods, the menu points at views that exist,
// and the views require only modules LuCI (or the app itself) provides.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync, existsSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { READ_METHODS, WANBOND_OBJECT, WANBOND_SIGNATURE, WRITE_METHODS } from '../../src/ubus/wanbond-object.ts';

const APP = fileURLToPath(new URL('../../luci/luci-app-wanbond/', import.meta.url));
const RESOURCES = join(APP, 'htdocs/luci-static/resources');
const DOUBLE = fileURLToPath(new URL('../doubles/luci/www/luci-static/resources/', import.meta.url));

function walk(dir: string): string[] {
  return readdirSync(dir).sort().flatMap((n) => (statSync(join(dir, n)).isDirectory() ? walk(join(dir, n)) : [join(dir, n)]));
}

const files = walk(APP);
const scripts = files.filter((f) => f.endsWith('.js'));
const acl = JSON.parse(readFileSync(join(APP, 'root/usr/share/rpcd/acl.d/luci-app-wanbond.json'), 'utf8')) as Record<
  string,
  { description: string; read?: { ubus?: Record<string, string[]>; uci?: string[] }; write?: { ubus?: Record<string, string[]>; uci?: string[] } }
>;
const menu = JSON.parse(readFileSync(join(APP, 'root/usr/share/luci/menu.d/luci-app-wanbond.json'), 'utf8')) as Record<
  string,
  { title: string; action: { type: string; path?: string }; depends?: { acl?: string[]; uci?: Record<string, boolean> } }
>;

// The other daemons' methods the views may call (netifd ubus.c).
const OTHER_OBJECTS: Record<string, string[]> = { 'network.interface': ['dump'] };

/** Every rpc.declare({ object: '…', method: '…' }) in a view's source. */
function declaredCalls(source: string): Array<{ object: string; method: string }> {
  const calls: Array<{ object: string; method: string }> = [];
  for (const m of source.matchAll(/rpc\.declare\(\{([\s\S]*?)\}\);/g)) {
    const object = /object:\s*'([^']+)'/.exec(m[1]!)?.[1];
    const method = /method:\s*'([^']+)'/.exec(m[1]!)?.[1];
    assert.ok(object && method, `rpc.declare with literal object and method: ${m[0]}`);
    calls.push({ object, method });
  }
  return calls;
}

function granted(group: (typeof acl)[string], perm: 'read' | 'write', object: string, method: string): boolean {
  return (group[perm]?.ubus?.[object] ?? []).includes(method);
}

describe('luci-app-wanbond', () => {
  it('has valid JSON files', () => {
    const json = files.filter((f) => f.endsWith('.json'));
    assert.ok(json.length >= 2);
    for (const f of json) assert.doesNotThrow(() => JSON.parse(readFileSync(f, 'utf8')), relative(APP, f));
  });

  it('declares only ubus calls its ACL grants and a daemon serves', () => {
    const group = acl['luci-app-wanbond'];
    assert.ok(group, 'ACL group named after the app');
    const calls = scripts.flatMap((f) => declaredCalls(readFileSync(f, 'utf8')));
    assert.ok(calls.length >= 4, 'the views call ubus');
    for (const { object, method } of calls) {
      assert.ok(granted(group, 'read', object, method) || granted(group, 'write', object, method), `${object}.${method} is granted`);
      if (object === WANBOND_OBJECT) assert.ok(method in WANBOND_SIGNATURE, `wanbond.${method} is a method of the agent's object`);
      else assert.ok(OTHER_OBJECTS[object]?.includes(method), `${object}.${method} is a known daemon method`);
    }
    // and the status page uses status + set_link, the settings page reload
    const used = new Set(calls.map((c) => `${c.object}.${c.method}`));
    for (const m of ['wanbond.status', 'wanbond.set_link', 'wanbond.reload', 'network.interface.dump']) assert.ok(used.has(m), m);
  });

  it('grants readers the read methods only, writers the rest, exactly as the object splits them', () => {
    const group = acl['luci-app-wanbond']!;
    assert.deepEqual([...(group.read?.ubus?.[WANBOND_OBJECT] ?? [])].sort(), [...READ_METHODS].sort());
    assert.deepEqual([...(group.write?.ubus?.[WANBOND_OBJECT] ?? [])].sort(), [...WRITE_METHODS].sort());
    assert.deepEqual(Object.keys(WANBOND_SIGNATURE).sort(), [...READ_METHODS, ...WRITE_METHODS].sort());
    // the settings form reads and writes /etc/config/wanbond and nothing else
    assert.deepEqual(group.read?.uci, ['wanbond']);
    assert.deepEqual(group.write?.uci, ['wanbond']);
    const maps = scripts.flatMap((f) => [...readFileSync(f, 'utf8').matchAll(/new form\.Map\('([^']+)'/g)].map((m) => m[1]));
    assert.deepEqual(maps, ['wanbond']);
  });

  it('has a menu whose views exist and whose ACL group exists', () => {
    const views = Object.values(menu).filter((n) => n.action.type === 'view');
    assert.deepEqual(views.map((n) => n.action.path).sort(), ['wanbond/settings', 'wanbond/status']);
    for (const n of views) assert.ok(existsSync(join(RESOURCES, 'view', `${n.action.path}.js`)), n.action.path);
    const root = menu['admin/network/wanbond'];
    assert.deepEqual(root?.depends, { acl: ['luci-app-wanbond'], uci: { wanbond: true } });
    for (const n of Object.values(menu)) for (const g of n.depends?.acl ?? []) assert.ok(g in acl, g);
  });

  it("requires only modules LuCI provides (and the test double implements) or the app's own", () => {
    const luciBuiltins = ['baseclass', 'dom', 'poll', 'request', 'view'];
    const doubleModules = walk(DOUBLE).filter((f) => f.endsWith('.js') && !f.endsWith('luci.js')).map((f) => relative(DOUBLE, f).replace(/\.js$/, '').replace(/\//g, '.'));
    for (const f of scripts) {
      const src = readFileSync(f, 'utf8');
      const requires = [...src.matchAll(/^'require ([A-Za-z0-9_.]+)(?: as [A-Za-z_]\w*)?';$/gm)].map((m) => m[1]!);
      assert.ok(requires.length > 0, relative(APP, f));
      for (const r of requires) {
        const own = existsSync(join(RESOURCES, `${r.replace(/\./g, '/')}.js`));
        assert.ok(own || luciBuiltins.includes(r) || doubleModules.includes(r), `${relative(APP, f)} requires ${r}`);
      }
      assert.match(src, /^'use strict';\n'require /, `${relative(APP, f)} starts with LuCI's directives`);
    }
  });

  it('routes its strings through _() and builds no HTML from strings', () => {
    for (const f of scripts.filter((s) => s.includes('/view/'))) {
      const src = readFileSync(f, 'utf8');
      assert.doesNotMatch(src, /innerHTML/, `${relative(APP, f)}: no innerHTML`);
      // E(tag, attrs, 'string') would be parsed as HTML by LuCI's dom.append; children are arrays
      assert.doesNotMatch(src, /E\('[a-z0-9]+', \{[^}]*\}, _\(/, `${relative(APP, f)}: text children in arrays`);
      assert.doesNotMatch(src, /E\('[a-z0-9]+', _\(/, `${relative(APP, f)}: text children in arrays`);
    }
  });
});
