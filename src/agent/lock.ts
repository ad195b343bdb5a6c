// One wanbond at a time changes the stack: `wanbond run` holds this lock while it runs, `apply`
// and `down` while they work. node has no flock(2), so: a file created with O_EXCL holding the
// owner's pid; a lock whose pid is gone (or now belongs to something that is not wanbond) is
// stale and taken over, a small second O_EXCL file keeping two takers from racing.
import { closeSync, mkdirSync, openSync, readFileSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';

export const LOCK_PATH = '/var/run/wanbond/lock';

export class StackBusyError extends Error {
  constructor(readonly pid: number) {
    super(`another wanbond (pid ${pid}) is changing the stack`);
  }
}

export interface LockOptions {
  pid?: number;
  /** Whether `pid` is a running wanbond (default: signal 0 and its /proc command line). */
  alive?: (pid: number) => boolean;
}

export interface Lock {
  readonly path: string;
  release(): void;
}

/** A process that exists and, where /proc says, runs wanbond (a recycled pid is not an owner). */
export function wanbondAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('wanbond');
  } catch {
    return true; // no procfs: trust the signal
  }
}

function readPid(path: string): number | null {
  try {
    const n = Number(readFileSync(path, 'utf8').trim());
    return Number.isInteger(n) && n > 0 ? n : null;
  } catch {
    return null;
  }
}

function createExclusive(path: string, content: string): boolean {
  let fd: number;
  try {
    fd = openSync(path, 'wx', 0o644);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw e;
  }
  try {
    writeSync(fd, content);
  } finally {
    closeSync(fd);
  }
  return true;
}

/** Remove the lock if it still names `stalePid`; only one process breaks it at a time. */
function breakStale(path: string, stalePid: number | null): void {
  const guard = `${path}.break`;
  if (!createExclusive(guard, `${process.pid}\n`)) {
    // Another taker is breaking it; a guard left by a crash is removed after a while.
    try {
      if (Date.now() - statSync(guard).mtimeMs > 10_000) unlinkSync(guard);
    } catch {
      /* gone meanwhile */
    }
    return;
  }
  try {
    if (readPid(path) === stalePid) unlinkSync(path);
  } catch {
    /* gone meanwhile */
  } finally {
    try {
      unlinkSync(guard);
    } catch {
      /* already gone */
    }
  }
}

/** Take the lock or throw StackBusyError naming the holder. */
export function acquireLock(path = LOCK_PATH, o: LockOptions = {}): Lock {
  const pid = o.pid ?? process.pid;
  const alive = o.alive ?? wanbondAlive;
  mkdirSync(dirname(path), { recursive: true, mode: 0o755 });
  for (let attempt = 0; attempt < 20; attempt++) {
    if (createExclusive(path, `${pid}\n`)) {
      return {
        path,
        release() {
          // Only our own: a lock broken as stale and taken by another stays theirs.
          if (readPid(path) === pid) {
            try {
              unlinkSync(path);
            } catch {
              /* gone */
            }
          }
        },
      };
    }
    const holder = readPid(path);
    if (holder === pid) throw new StackBusyError(pid);
    if (holder !== null && alive(holder)) throw new StackBusyError(holder);
    // Stale (the holder is gone) or half-written (a holder between create and write: give it a moment).
    if (holder === null) {
      let age = 0;
      try {
        age = Date.now() - statSync(path).mtimeMs;
      } catch {
        continue;
      }
      if (age < 2000) {
        Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 50);
        continue;
      }
    }
    breakStale(path, holder);
  }
  const holder = readPid(path);
  throw new StackBusyError(holder ?? 0);
}

/** The lock's path: WANBOND_LOCK_FILE where set (a second instance, tests), else LOCK_PATH. */
export function lockPath(): string {
  return process.env['WANBOND_LOCK_FILE'] || LOCK_PATH;
}

/** Run `f` holding the lock (when `take`); the busy message instead of its result when held. */
export async function withStackLock<T>(take: boolean, f: () => Promise<T>): Promise<T | string> {
  if (!take) return f();
  let lock: Lock;
  try {
    lock = acquireLock(lockPath());
  } catch (e) {
    if (e instanceof StackBusyError) return e.message;
    throw e;
  }
  try {
    return await f();
  } finally {
    lock.release();
  }
}
