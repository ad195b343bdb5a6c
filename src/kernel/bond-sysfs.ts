// Bond membership through sysfs: reading it, releasing a slave and enslaving one need no
// process. Taking a failed link out of the bond, or a recovered one back in, must not wait for a
// full reconcile (several `ip`/`tc`/`wg` runs, each a fork of the agent that stalls a small
// router for a moment), and status must say what the kernel has, not what the last plan wanted.
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
    setUp(dev, true, sys);
  } catch {
    // left for the reconcile
  }
  return null;
}

/**
 * Release `release` from `bond` (the kernel closes them), then enslave `enslave` in that order,
 * each closed first (the kernel enslaves only closed devices) and opened again: a link rejoining
 * without a process (see agent/steer-in-place.ts). Returns an error message, null when all done;
 * whatever is left undone the reconcile finishes.
 */
export function moveSlaves(bond: string, release: string[], enslave: string[], sys = SYS): string | null {
  try {
    for (const dev of release) writeFileSync(`${sys}/${bond}/bonding/slaves`, `-${dev}`);
    for (const dev of enslave) {
      setUp(dev, false, sys);
      writeFileSync(`${sys}/${bond}/bonding/slaves`, `+${dev}`);
      setUp(dev, true, sys);
    }
  } catch (e) {
    return (e as Error).message;
  }
  return null;
}

/** Open or close `dev` through its sysfs flags (IFF_UP), when it is not so already. */
function setUp(dev: string, up: boolean, sys: string): void {
  const flags = parseInt(readFileSync(`${sys}/${dev}/flags`, 'utf8'), 16);
  if (!!(flags & IFF_UP) === up) return;
  writeFileSync(`${sys}/${dev}/flags`, `0x${(up ? flags | IFF_UP : flags & ~IFF_UP).toString(16)}`);
}

const IFF_UP = 0x1;
