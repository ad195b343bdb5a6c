// TEST DOUBLE of rpcd's uci plugin state (rpcd uci.c): committed configs (parsed and printed
// with wanbond's own libuci-compatible parser/writer) plus each session's staged changes, as
// rpcd keeps them per session until `uci apply` commits them. Reads through a session see its
// staged changes, as `ubus call uci get` does.
import { parseUci } from '../../../src/config/uci-parse.ts';
import { writeUci } from '../../../src/config/uci-write.ts';
import type { UciDocument } from '../../../src/config/uci-document.ts';

type Value = string | string[];
interface Section {
  name: string;
  type: string;
  anonymous: boolean;
  options: Map<string, Value>;
}
type Config = Section[];
export type UciChange = [string, string, string?, Value?];

function fromDoc(doc: UciDocument): Config {
  return doc.sections.map((s) => ({
    name: s.name,
    type: s.type,
    anonymous: s.anonymous,
    options: new Map(s.options.map((o) => [o.name, o.kind === 'option' ? o.value : [...o.values]] as [string, Value])),
  }));
}

function toDoc(pkg: string, config: Config): UciDocument {
  return {
    package: pkg,
    sectionCount: config.length,
    sections: config.map((s) => ({
      name: s.name,
      type: s.type,
      anonymous: s.anonymous,
      line: 0,
      openedAt: [],
      options: [...s.options].map(([name, v]) =>
        Array.isArray(v) ? { kind: 'list' as const, name, values: v, lines: v.map(() => 0) } : { kind: 'option' as const, name, value: v, line: 0 },
      ),
    })),
  };
}

function clone(c: Config): Config {
  return c.map((s) => ({ ...s, options: new Map([...s.options].map(([k, v]) => [k, Array.isArray(v) ? [...v] : v])) }));
}

export class UciStore {
  private readonly committed = new Map<string, Config>();
  private readonly staged = new Map<string, Map<string, UciChange[]>>(); // sid -> config -> changes

  constructor(files: Record<string, string>) {
    for (const [name, text] of Object.entries(files)) this.load(name, text);
  }

  load(name: string, text: string): void {
    const r = parseUci(text, `/etc/config/${name}`);
    if (!r.ok) throw new Error(r.errors.map((e) => e.message).join('; '));
    this.committed.set(name, fromDoc(r.doc));
  }

  has(name: string): boolean {
    return this.committed.has(name);
  }

  /** The committed file as `uci export` prints it. */
  text(name: string): string {
    const c = this.committed.get(name);
    if (!c) throw new Error(`no config ${name}`);
    return writeUci(toDoc(name, c));
  }

  /** The config as the session sees it: committed plus its staged changes. */
  view(sid: string, name: string): Config | undefined {
    const base = this.committed.get(name);
    if (!base) return undefined;
    const c = clone(base);
    for (const ch of this.staged.get(sid)?.get(name) ?? []) apply(c, ch);
    return c;
  }

  /** `uci get` reply values: { sid: { .anonymous, .type, .name, .index, options… } }. */
  values(sid: string, name: string): Record<string, Record<string, unknown>> | undefined {
    const c = this.view(sid, name);
    if (!c) return undefined;
    const out: Record<string, Record<string, unknown>> = {};
    c.forEach((s, index) => {
      out[s.name] = { '.anonymous': s.anonymous, '.type': s.type, '.name': s.name, '.index': index, ...Object.fromEntries(s.options) };
    });
    return out;
  }

  stage(sid: string, name: string, change: UciChange): void {
    let bySession = this.staged.get(sid);
    if (!bySession) this.staged.set(sid, (bySession = new Map()));
    let list = bySession.get(name);
    if (!list) bySession.set(name, (list = []));
    list.push(change);
  }

  changes(sid: string): Record<string, UciChange[]> {
    return Object.fromEntries([...(this.staged.get(sid) ?? [])].filter(([, l]) => l.length));
  }

  /** `uci apply`: commit the session's changes; returns the configs that changed. */
  commit(sid: string): string[] {
    const changed: string[] = [];
    for (const [name, list] of this.staged.get(sid) ?? []) {
      if (!list.length) continue;
      const c = this.view(sid, name);
      if (c) this.committed.set(name, c);
      changed.push(name);
    }
    this.staged.delete(sid);
    return changed;
  }
}

// One staged change, in rpcd's delta notation: add, set, list-add is folded into set, remove.
function apply(c: Config, ch: UciChange): void {
  const [op, section, opt, value] = ch;
  if (op === 'add') {
    if (!c.some((s) => s.name === section)) c.push({ name: section, type: String(opt), anonymous: value === 'anonymous', options: new Map() });
    return;
  }
  const s = c.find((x) => x.name === section);
  if (!s) return;
  if (op === 'set' && opt !== undefined && value !== undefined) s.options.set(opt, value);
  else if (op === 'remove' && opt !== undefined) s.options.delete(opt);
  else if (op === 'remove') c.splice(c.indexOf(s), 1);
}
