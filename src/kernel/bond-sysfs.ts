// Bond membership through sysfs: reading it and releasing a slave need no process. Taking a
// failed link out of the bond must not wait for a full reconcile (several `ip`/`tc`/`wg` runs,
// each a fork of the agent that stalls a small router for a moment), and status must say what
// the kernel has, not what the last plan wanted.
import { readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import { basename } from 'node:path';

const SYS = '/sys/class/net';

/** The bond `dev` is enslaved to, null when none (or no such device). */
export function masterOf(dev: string, sys = SYS): string | null {
  try {
    return basename(readlinkSync(`${sys}/${dev}/master`));
  } catch {
    return null;
  }
}

/** The slaves of `bond` in its list order (the order balance-rr serves them in); null when unreadable. */
export function slavesOf(bond: string, sys = SYS): string[] | null {
  try {
    return readFileSync(`${sys}/${bond}/bonding/slaves`, 'utf8').split(/\s+/).filter(Boolean);
  } catch {
    return null;
  }
}

/**
 * Release `dev` from `bond` now (`echo -dev > .../bonding/slaves`), and bring it up again: the
 * kernel closes a released slave, and a closed gretap receives nothing, while the other end may
 * still send on it (its ingress filter hands that to the bond: src/kernel/ingress-diff.ts).
 * Returns an error message, or null when released (the reconcile brings it up if this could not).
 */
export function releaseSlave(bond: string, dev: string, sys = SYS): string | null {
  try {
    writeFileSync(`${sys}/${bond}/bonding/slaves`, `-${dev}`);
  } catch (e) {
    return (e as Error).message;
  }
  try {
    const flags = parseInt(readFileSync(`${sys}/${dev}/flags`, 'utf8'), 16);
    if (!(flags & IFF_UP)) writeFileSync(`${sys}/${dev}/flags`, `0x${(flags | IFF_UP).toString(16)}`);
  } catch {
    // left for the reconcile
  }
  return null;
}

const IFF_UP = 0x1;
