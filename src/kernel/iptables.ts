// The iptables side of wanbond's firewall rules (where nftables does not work): wanbond's own
// chains, one jump into each from a built-in chain, rebuilt with `iptables-restore --noflush`
// (one transaction per table) when the tag in their comments is not the plan's.
import { IPT_CHAINS } from '../plan/nft.ts';
import type { Firewall } from '../plan/nft.ts';
import type { KIpt } from './state.ts';
import type { Step } from './step.ts';

type Key = keyof typeof IPT_CHAINS;
const KEYS = Object.keys(IPT_CHAINS) as Key[];

export function iptablesSteps(want: Firewall | null, have: KIpt): Step[] {
  const byTable = new Map<string, string[]>();
  const add = (table: string, ...lines: string[]) => byTable.set(table, [...(byTable.get(table) ?? []), ...lines]);
  for (const k of KEYS) {
    const { table, chain, from } = IPT_CHAINS[k];
    const rules = want?.ipt[k] ?? [];
    const hasChain = have.chains.includes(k);
    const jumps = have.jumps[k];
    if (rules.length === 0) {
      if (!hasChain && jumps.length === 0) continue;
      for (const j of jumps) add(table, `-D ${j}`);
      if (hasChain) add(table, `-F ${chain}`, `-X ${chain}`);
      continue;
    }
    const tagged = `wanbond ${want!.tag}"`;
    const inSync = hasChain && have.rules[k].length === rules.length && have.rules[k].every((r) => r.includes(tagged)) && jumps.length === 1;
    if (inSync) continue;
    add(table, `:${chain} - [0:0]`, ...rules.map((r) => `-A ${chain} ${r}`));
    for (const j of jumps.slice(1)) add(table, `-D ${j}`);
    if (jumps.length === 0) add(table, `-A ${from} -m comment --comment "wanbond" -j ${chain}`);
  }
  const steps: Step[] = [];
  for (const [table, lines] of byTable) {
    steps.push({ argv: [`${have.bin}-restore`, '--noflush'], input: `*${table}\n${lines.join('\n')}\nCOMMIT\n`, why: `wanbond's ${table} rules` });
  }
  return steps;
}
