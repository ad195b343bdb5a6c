// TEST DOUBLE of the LuCI side of a router, for browser tests: one HTTP server that
//  - serves LuCI view pages for the menu.d nodes of luci-app-wanbond (page template, L.env with
//    the session id and the node's ACL state, tabs for sibling nodes), the app's htdocs and the
//    client runtime test double (www/);
//  - answers ubus JSON-RPC at /ubus and /cgi-bin/luci/admin/ubus as uhttpd-mod-ubus does: the
//    session must hold `ubus <object> <method>` (else JSON-RPC error -32002 "Access denied"),
//    ubus_rpc_session is added to the arguments, replies are [status, data];
//  - holds rpcd sessions with the ACL groups from the app's acl.d file plus a luci-base double;
//  - serves the objects the views call: `wanbond` (the agent's real method table, callWanbond,
//    over an AgentApi), `uci` (rpcd's uci plugin over UciStore), `network.interface dump`
//    (a recorded netifd reply) and `session access`;
//  - implements LuCI's apply endpoints (admin/uci/apply_rollback, apply_unchecked, confirm); a
//    commit that changes a config runs its procd reload trigger (wanbond: the agent's reload).
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { readFileSync, existsSync, statSync } from 'node:fs';
import { join, normalize, extname } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { AddressInfo } from 'node:net';
import type { AgentApi } from '../../../src/agent/api.ts';
import { callWanbond } from '../../../src/ubus/wanbond-object.ts';
import { RpcdSessions, readAclFile, type AclFile, type Login } from './rpcd-session.ts';
import { UciStore, type UciChange } from './uci-store.ts';

const HERE = fileURLToPath(new URL('.', import.meta.url));
export const APP_DIR = fileURLToPath(new URL('../../../luci/luci-app-wanbond/', import.meta.url));
const APP_HTDOCS = join(APP_DIR, 'htdocs');
const DOUBLE_WWW = join(HERE, 'www');
export const APP_ACL = join(APP_DIR, 'root/usr/share/rpcd/acl.d/luci-app-wanbond.json');
export const APP_MENU = join(APP_DIR, 'root/usr/share/luci/menu.d/luci-app-wanbond.json');

// What luci-base grants every LuCI user (the subset these pages need), and rpcd's
// unauthenticated group; in rpcd's acl.d format.
const LUCI_BASE_ACL: AclFile = {
  unauthenticated: { description: 'Access controls for unauthenticated requests', read: { ubus: { session: ['access', 'login'] } } },
  'luci-base': {
    description: 'Grant access to basic LuCI procedures',
    read: { ubus: { session: ['access'], uci: ['changes', 'get'] } },
    write: { ubus: { uci: ['add', 'apply', 'confirm', 'delete', 'order', 'rename', 'set'] } },
  },
};

export const DEFAULT_LOGINS: Login[] = [
  { username: 'root', read: ['*'], write: ['*'] },
  // a LuCI user who may look but not touch (rpcd login with read '*' and no write list)
  { username: 'viewer', read: ['*'], write: [] },
];

const MIME: Record<string, string> = { '.js': 'text/javascript; charset=utf-8', '.css': 'text/css; charset=utf-8', '.json': 'application/json', '.svg': 'image/svg+xml' };

interface MenuNode {
  title: string;
  order?: number;
  action: { type: string; path?: string };
  depends?: { acl?: string[]; uci?: Record<string, boolean> };
}

export interface HarnessOptions {
  agent: AgentApi;
  uci: Record<string, string>;
  interfaces: unknown;
  logins?: Login[];
  /** Seconds between status polls (LuCI's L.env.pollinterval, 5 on a router). */
  pollInterval?: number;
}

export interface RpcLogEntry {
  sid: string;
  object: string;
  method: string;
  args: Record<string, unknown>;
  result?: unknown[];
  error?: { code: number; message: string };
}

export class LuciHarness {
  readonly sessions: RpcdSessions;
  readonly uci: UciStore;
  readonly rpcLog: RpcLogEntry[] = [];
  readonly reloadTriggers: string[] = [];
  /** false: the agent is stopped, ubus has no `wanbond` object (uhttpd: "Object not found"). */
  agentRunning = true;
  private readonly menu: Record<string, MenuNode>;
  private server: Server | undefined;
  url = '';

  constructor(private readonly opts: HarnessOptions) {
    this.sessions = new RpcdSessions([LUCI_BASE_ACL, readAclFile(APP_ACL)], opts.logins ?? DEFAULT_LOGINS);
    this.uci = new UciStore(opts.uci);
    this.menu = JSON.parse(readFileSync(APP_MENU, 'utf8')) as Record<string, MenuNode>;
  }

  async start(): Promise<string> {
    this.server = createServer((req, res) => {
      this.handle(req, res).catch((e: unknown) => {
        res.writeHead(500, { 'Content-Type': 'text/plain' });
        res.end(String(e instanceof Error ? e.stack : e));
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this.url;
  }

  async stop(): Promise<void> {
    if (!this.server) return;
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server!.close(() => resolve()));
  }

  login(username: string): string {
    return this.sessions.login(username);
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://x');
    const path = url.pathname;
    if (req.method === 'POST' && (path === '/ubus' || path.startsWith('/ubus/') || path.startsWith('/cgi-bin/luci/admin/ubus'))) {
      return this.jsonRpc(await body(req), res);
    }
    if (req.method === 'POST' && path.startsWith('/cgi-bin/luci/admin/uci/')) {
      return this.applyEndpoint(path.slice('/cgi-bin/luci/admin/uci/'.length), url, req, res);
    }
    if (path.startsWith('/luci-static/')) return this.staticFile(path, res);
    if (path.startsWith('/cgi-bin/luci/')) return this.page(path.slice('/cgi-bin/luci/'.length).replace(/\/$/, ''), req, res);
    res.writeHead(404).end('not found');
  }

  private staticFile(path: string, res: ServerResponse): void {
    const rel = normalize(path.slice(1));
    for (const root of [APP_HTDOCS, DOUBLE_WWW]) {
      const file = join(root, rel);
      if (file.startsWith(root) && existsSync(file) && statSync(file).isFile()) {
        res.writeHead(200, { 'Content-Type': MIME[extname(file)] ?? 'application/octet-stream', 'Cache-Control': 'no-store' });
        res.end(readFileSync(file));
        return;
      }
    }
    res.writeHead(404).end('not found');
  }

  // LuCI's dispatcher: find the node, resolve firstchild, check its (inherited) ACL depends.
  private page(reqPath: string, req: IncomingMessage, res: ServerResponse): void {
    const sid = cookie(req, 'sysauth_http');
    const session = sid ? this.sessions.get(sid) : undefined;
    if (!session) {
      res.writeHead(403, { 'Content-Type': 'text/html' }).end('<h2>Authorization Required</h2>');
      return;
    }
    let path = reqPath;
    let node = this.menu[path];
    while (node && node.action.type === 'firstchild') {
      const child = this.children(path)[0];
      if (!child) break;
      path = child;
      node = this.menu[path];
    }
    if (!node || node.action.type !== 'view' || !node.action.path) {
      res.writeHead(404).end('no such page');
      return;
    }

    const groups = this.ancestors(path).flatMap((p) => this.menu[p]?.depends?.acl ?? []);
    const writable = groups.some((g) => this.sessions.access(session.sid, 'access-group', g, 'write'));
    const readable = writable || groups.some((g) => this.sessions.access(session.sid, 'access-group', g, 'read'));
    const uciOk = this.ancestors(path).every((p) => Object.keys(this.menu[p]?.depends?.uci ?? {}).every((c) => this.uci.has(c)));
    if (!readable || !uciOk) {
      res.writeHead(403, { 'Content-Type': 'text/html' }).end('<h2>Access denied</h2>');
      return;
    }

    const env = {
      sessionid: session.sid,
      token: 'token-' + session.sid.slice(0, 8),
      scriptname: '/cgi-bin/luci',
      resource: '/luci-static/resources',
      media: '/luci-static/bootstrap',
      requestpath: path.split('/'),
      dispatchpath: path.split('/'),
      nodespec: { satisfied: true, readonly: !writable, title: node.title },
      pollinterval: this.opts.pollInterval ?? 5,
      apply_rollback: 90,
      apply_holdoff: 4,
      apply_timeout: 5,
      apply_display: 1.5,
      rpctimeout: 20,
      ubuspath: '/ubus/',
    };
    const parent = path.split('/').slice(0, -1).join('/');
    const tabs = this.children(parent)
      .map((p) => `<li class="tabmenu-item-${p.split('/').pop()}${p === path ? ' active' : ''}"><a href="/cgi-bin/luci/${p}">${esc(this.menu[p]!.title)}</a></li>`)
      .join('');
    const section = this.menu[parent]?.title ?? '';
    const html = `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>farmhouse - ${esc(section)} - ${esc(node.title)} - LuCI</title>
<link rel="stylesheet" href="/luci-static/bootstrap/cascade.css">
<script src="/luci-static/resources/luci.js" data-env="${esc(JSON.stringify(env))}"></script>
</head>
<body class="lang_en" data-page="${esc(path.replace(/\//g, '-'))}">
<header><div class="fill"><div class="container">
<span class="showSide"></span>
<a class="brand" href="#">farmhouse</a>
<ul class="nav" id="topmenu"><li><a href="#">Status</a></li><li><a href="#">System</a></li><li class="active"><a href="#">Network</a></li><li><a href="#">Logout</a></li></ul>
<div id="indicators" class="pull-right"><span data-indicator="session-user">${esc(session.username)}</span></div>
</div></div></header>
<div id="maincontent" class="container">
<ul class="tabs">${tabs}</ul>
<div id="view"><div class="spinning">Loading view…</div></div>
<script>L.require('ui').then(function(ui) { ui.instantiateView(${JSON.stringify(node.action.path)}); });</script>
<footer><span>Powered by LuCI (test double) · wanbond</span></footer>
</div>
</body>
</html>`;
    res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8', 'Cache-Control': 'no-store' });
    res.end(html);
  }

  private children(parent: string): string[] {
    return Object.keys(this.menu)
      .filter((p) => p.startsWith(parent + '/') && !p.slice(parent.length + 1).includes('/'))
      .sort((a, b) => (this.menu[a]!.order ?? 100) - (this.menu[b]!.order ?? 100));
  }

  private ancestors(path: string): string[] {
    const parts = path.split('/');
    return parts.map((_, i) => parts.slice(0, i + 1).join('/')).filter((p) => p in this.menu);
  }

  // uhttpd-mod-ubus: JSON-RPC 2.0, single or batch.
  private async jsonRpc(text: string, res: ServerResponse): Promise<void> {
    let msg: unknown;
    try {
      msg = JSON.parse(text);
    } catch {
      return sendJson(res, { jsonrpc: '2.0', id: null, error: { code: -32700, message: 'Parse error' } });
    }
    const reply = Array.isArray(msg) ? await Promise.all(msg.map((m) => this.rpcOne(m))) : await this.rpcOne(msg);
    sendJson(res, reply);
  }

  private async rpcOne(m: unknown): Promise<unknown> {
    const req = (m ?? {}) as { id?: unknown; method?: unknown; params?: unknown };
    const id = req.id ?? null;
    const err = (code: number, message: string) => ({ jsonrpc: '2.0', id, error: { code, message } });
    if (req.method !== 'call') return err(-32601, 'Method not found');
    const p = req.params;
    if (!Array.isArray(p) || p.length !== 4 || typeof p[0] !== 'string' || typeof p[1] !== 'string' || typeof p[2] !== 'string' || typeof p[3] !== 'object' || p[3] === null) {
      return err(-32602, 'Invalid parameters');
    }
    const [sid, object, method] = p as [string, string, string];
    const args = { ...(p[3] as Record<string, unknown>) };
    const entry: RpcLogEntry = { sid, object, method, args };
    this.rpcLog.push(entry);
    if (!this.sessions.get(sid) || !this.sessions.access(sid, 'ubus', object, method)) {
      entry.error = { code: -32002, message: 'Access denied' };
      return err(-32002, 'Access denied');
    }
    args.ubus_rpc_session = sid;
    const result = await this.ubus(sid, object, method, args);
    if (result === null) {
      entry.error = { code: -32000, message: 'Object not found' };
      return err(-32000, 'Object not found');
    }
    entry.result = result;
    return { jsonrpc: '2.0', id, result };
  }

  /** One ubus call: [status] or [status, data]; null when the object does not exist. */
  private async ubus(sid: string, object: string, method: string, args: Record<string, unknown>): Promise<unknown[] | null> {
    switch (object) {
      case 'wanbond': {
        if (!this.agentRunning) return null;
        const r = await callWanbond(this.opts.agent, method, args);
        return r.data !== undefined && r.status === 0 ? [r.status, r.data] : [r.status];
      }
      case 'session': {
        if (method !== 'access') return [3];
        const scope = typeof args.scope === 'string' ? args.scope : 'ubus';
        return [0, { access: this.sessions.access(sid, scope, String(args.object ?? ''), String(args.function ?? '')) }];
      }
      case 'network.interface':
        return method === 'dump' ? [0, this.opts.interfaces] : [3];
      case 'uci':
        return this.uciCall(sid, method, args);
      default:
        return null;
    }
  }

  // rpcd's uci plugin: per-config ACL (scope "uci", function read/write), staged per session.
  private uciCall(sid: string, method: string, args: Record<string, unknown>): unknown[] {
    const config = typeof args.config === 'string' ? args.config : '';
    const may = (fn: 'read' | 'write') =>
      this.sessions.access(sid, 'uci', config, fn) || (fn === 'read' && this.sessions.access(sid, 'uci', config, 'write'));
    if (method === 'changes') return [0, { changes: this.uci.changes(sid) }];
    if (!config) return [2];
    if (!this.uci.has(config)) return [4];
    switch (method) {
      case 'get': {
        if (!may('read')) return [6];
        return [0, { values: this.uci.values(sid, config) }];
      }
      case 'add': {
        if (!may('write')) return [6];
        const type = String(args.type ?? '');
        if (!/^[\x21-\x7e]+$/.test(type)) return [2];
        const name = typeof args.name === 'string' && args.name ? args.name : `cfg${Math.floor(Math.random() * 0xffffff).toString(16).padStart(6, '0')}`;
        if (!/^[A-Za-z0-9_]+$/.test(name)) return [2];
        this.uci.stage(sid, config, ['add', name, type, args.name ? 'named' : 'anonymous']);
        this.stageValues(sid, config, name, args.values);
        return [0, { section: name }];
      }
      case 'set': {
        if (!may('write')) return [6];
        const section = String(args.section ?? '');
        if (!this.uci.values(sid, config)?.[section]) return [4];
        this.stageValues(sid, config, section, args.values);
        return [0];
      }
      case 'delete': {
        if (!may('write')) return [6];
        const section = String(args.section ?? '');
        if (!this.uci.values(sid, config)?.[section]) return [4];
        const opts = Array.isArray(args.options) ? args.options.map(String) : typeof args.option === 'string' ? [args.option] : null;
        if (opts) for (const o of opts) this.uci.stage(sid, config, ['remove', section, o]);
        else this.uci.stage(sid, config, ['remove', section]);
        return [0];
      }
      default:
        return [3];
    }
  }

  private stageValues(sid: string, config: string, section: string, values: unknown): void {
    if (!values || typeof values !== 'object') return;
    for (const [k, v] of Object.entries(values as Record<string, unknown>)) {
      if (!/^[A-Za-z0-9_]+$/.test(k)) continue;
      const value = Array.isArray(v) ? v.map(String) : String(v);
      this.uci.stage(sid, config, ['set', section, k, value] as UciChange);
    }
  }

  // LuCI's admin/uci/apply_rollback (checked) and apply_unchecked, then admin/uci/confirm.
  private applyEndpoint(action: string, url: URL, req: IncomingMessage, res: ServerResponse): void {
    const sid = url.searchParams.get('sid') ?? cookie(req, 'sysauth_http') ?? '';
    if (action === 'confirm') {
      res.writeHead(204).end();
      return;
    }
    if ((action !== 'apply_rollback' && action !== 'apply_unchecked') || !this.sessions.get(sid) || !this.sessions.access(sid, 'ubus', 'uci', 'apply')) {
      res.writeHead(403).end();
      return;
    }
    const changed = this.uci.commit(sid);
    if (!changed.length) {
      res.writeHead(204).end();
      return;
    }
    // rpcd sends config.change per package; procd runs the matching reload triggers.
    for (const c of changed) {
      this.reloadTriggers.push(c);
      if (c === 'wanbond' && this.agentRunning) void this.opts.agent.reload();
    }
    if (action === 'apply_rollback') sendJson(res, { token: 'confirm-' + sid.slice(0, 8) });
    else res.writeHead(204).end();
  }
}

function body(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function sendJson(res: ServerResponse, v: unknown): void {
  res.writeHead(200, { 'Content-Type': 'application/json' });
  res.end(JSON.stringify(v));
}

function cookie(req: IncomingMessage, name: string): string | undefined {
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const [k, ...v] = part.trim().split('=');
    if (k === name) return v.join('=');
  }
  return undefined;
}

function esc(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
