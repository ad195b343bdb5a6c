// TEST DOUBLE of rpcd's session ACLs (rpcd session.c), as LuCI's HTTP ubus calls meet them.
// ACL groups come from acl.d JSON files in rpcd's format; a login's `read`/`write` lists
// (/etc/config/rpcd) pick the groups by glob. A group granted for reading contributes its
// "read" scopes, for writing also its "write" scopes, and the session gets the scope
// "access-group" <group> read/write that LuCI's dispatcher checks for a menu node's ACL depends.
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';

type ScopeGrant = Record<string, string[]> | string[];
export interface AclGroup {
  description?: string;
  read?: Record<string, ScopeGrant>;
  write?: Record<string, ScopeGrant>;
}
export type AclFile = Record<string, AclGroup>;

export interface Login {
  username: string;
  read: string[]; // group globs
  write: string[];
}

export interface Session {
  sid: string;
  username: string;
  /** scope -> object -> functions (each may be a glob) */
  acls: Map<string, Map<string, Set<string>>>;
}

/** fnmatch(3) for the patterns ACLs use: `*`, `?`, literal text. */
export function globMatch(pattern: string, s: string): boolean {
  const re = new RegExp('^' + pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.') + '$');
  return re.test(s);
}

export function readAclFile(path: string): AclFile {
  return JSON.parse(readFileSync(path, 'utf8')) as AclFile;
}

export class RpcdSessions {
  private readonly groups = new Map<string, AclGroup>();
  private readonly sessions = new Map<string, Session>();

  constructor(aclFiles: AclFile[], private readonly logins: Login[]) {
    for (const file of aclFiles) for (const [name, group] of Object.entries(file)) this.groups.set(name, group);
  }

  login(username: string): string {
    const login = this.logins.find((l) => l.username === username);
    if (!login) throw new Error(`no such login: ${username}`);
    const sid = randomBytes(16).toString('hex');
    const s: Session = { sid, username, acls: new Map() };
    for (const [name, group] of this.groups) {
      const canRead = login.read.some((p) => globMatch(p, name));
      const canWrite = login.write.some((p) => globMatch(p, name));
      if (canRead || canWrite) {
        this.grantScopes(s, group.read, 'read');
        this.grant(s, 'access-group', name, 'read');
      }
      if (canWrite) {
        this.grantScopes(s, group.write, 'write');
        this.grant(s, 'access-group', name, 'write');
      }
    }
    this.sessions.set(sid, s);
    return sid;
  }

  get(sid: string): Session | undefined {
    return this.sessions.get(sid);
  }

  destroy(sid: string): void {
    this.sessions.delete(sid);
  }

  /** rpcd `session access`: does the session hold scope/object/function (globs in the ACL)? */
  access(sid: string, scope: string, object: string, fn: string): boolean {
    const s = this.sessions.get(sid);
    if (!s) return false;
    const objects = s.acls.get(scope);
    if (!objects) return false;
    for (const [objPattern, fns] of objects) {
      if (!globMatch(objPattern, object)) continue;
      for (const f of fns) if (globMatch(f, fn)) return true;
    }
    return false;
  }

  private grant(s: Session, scope: string, object: string, fn: string): void {
    let objects = s.acls.get(scope);
    if (!objects) s.acls.set(scope, (objects = new Map()));
    let fns = objects.get(object);
    if (!fns) objects.set(object, (fns = new Set()));
    fns.add(fn);
  }

  // { ubus: {obj: [fns]} } or the array form { uci: [configs] } whose function is the permission.
  private grantScopes(s: Session, scopes: Record<string, ScopeGrant> | undefined, perm: 'read' | 'write'): void {
    for (const [scope, grant] of Object.entries(scopes ?? {})) {
      if (Array.isArray(grant)) for (const obj of grant) this.grant(s, scope, obj, perm);
      else for (const [obj, fns] of Object.entries(grant)) for (const fn of fns) this.grant(s, scope, obj, fn);
    }
  }
}
