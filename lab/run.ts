// Host side of the lab: boots user-mode Linux with the host's root on hostfs, runs one scenario
// (a TypeScript file, through tsx) inside it and returns its console output and the JSON it wrote.
// Every boot gets its own temp dir (umid, uml_dir, job file, result file), so labs run side by side.
import { spawn, spawnSync } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface LabRunOptions {
  /** Path of a .ts file run inside the guest with `node --import tsx`. */
  scenario: string;
  args?: string[];
  /** Limit for the scenario itself; the boot gets a further grace on top. Default 300. */
  timeoutSec?: number;
  /** Guest memory. Default 1024. */
  memMb?: number;
  /** Working directory of the scenario inside the guest. Default: this repository. */
  cwd?: string;
  /** Extra environment for the scenario (names: letters, digits, underscore). */
  env?: Record<string, string>;
  /** Host scheduling priority of the guest when run as root (nice value, default -10; 0 = as the caller). */
  nice?: number;
  /** Called with every chunk of console output as it arrives (e.g. to echo it live). */
  onOutput?: (chunk: string) => void;
}

export interface LabRunResult {
  /** The scenario's exit status; 124 when it or the boot timed out, 255 when the guest died. */
  exitCode: number;
  /** Console output of the guest (kernel messages and the scenario's stdout/stderr). */
  output: string;
  /** JSON the scenario wrote to $WANBOND_LAB_RESULT, or null when it wrote none. */
  result: unknown;
  /** Seconds from power-on to the scenario's start, as the guest's clock saw it. */
  bootSec: number | null;
  /** Wall-clock seconds of the whole run on the host. */
  wallSec: number;
  timedOut: boolean;
}

export const REPO_ROOT = resolve(fileURLToPath(new URL('..', import.meta.url)));
const INIT = join(REPO_ROOT, 'lab', 'init.sh');
const BOOT_GRACE_SEC = 45;

function memoryDir(fallback: string): string {
  try {
    accessSync('/dev/shm', constants.W_OK);
    return '/dev/shm';
  } catch {
    return fallback;
  }
}

function shellQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

function jobScript(cwd: string, timeoutSec: number, argv: string[], env: Record<string, string>): string {
  const lines = [
    `WANBOND_LAB_CWD=${shellQuote(cwd)}`,
    `WANBOND_LAB_TIMEOUT=${Math.ceil(timeoutSec)}`,
  ];
  for (const [k, v] of Object.entries(env)) {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(k)) throw new Error(`lab: bad environment name ${k}`);
    lines.push(`export ${k}=${shellQuote(v)}`);
  }
  lines.push(`set -- ${argv.map(shellQuote).join(' ')}`);
  return lines.join('\n') + '\n';
}

/**
 * The guest kernel: the one lab/kernel/build.sh built (in-kernel WireGuard and nftables; `make
 * deps` builds it), or WANBOND_LAB_KERNEL (e.g. Debian's `linux.uml`, which has neither).
 */
function labKernel(): string {
  if (process.env.WANBOND_LAB_KERNEL) return process.env.WANBOND_LAB_KERNEL;
  const r = spawnSync(join(REPO_ROOT, 'lab/kernel/build.sh'), ['--path'], { encoding: 'utf8' });
  const path = r.stdout.trim();
  if (r.status !== 0) throw new Error(`lab: kernel ${path || ''} not built; run \`make deps\` (lab/kernel/build.sh) first`);
  return path;
}

export async function runInLab(opts: LabRunOptions): Promise<LabRunResult> {
  const timeoutSec = opts.timeoutSec ?? 300;
  const memMb = opts.memMb ?? 1024;
  const cwd = resolve(opts.cwd ?? REPO_ROOT);
  const scenario = resolve(opts.scenario);
  const dir = await mkdtemp(join(tmpdir(), 'wanbond-lab-'));
  const started = Date.now();
  try {
    await writeFile(join(dir, 'job.sh'), jobScript(cwd, timeoutSec, [scenario, ...(opts.args ?? [])], opts.env ?? {}));
    const umid = `wanbond-${process.pid}-${dir.slice(-6)}`;
    const argv = [
      `mem=${memMb}M`, `umid=${umid}`, `uml_dir=${dir}`,
      'root=/dev/root', 'rootfstype=hostfs', 'rootflags=/', 'rw', 'quiet',
      `init=${INIT}`, 'con=null', 'con0=null,fd:1', 'ssl=null',
      `WANBOND_LAB_DIR=${dir}`,
    ];
    // UML backs the guest's memory with a file in TMPDIR: on disk every page the guest touches
    // is written back, so put it on tmpfs (/dev/shm) where there is one.
    // The guest is one host process group on a shared machine: as root, give it a head start
    // over compilers and browsers so that what it measures is the emulated links, not the host.
    const niced = process.getuid?.() === 0 && (opts.nice ?? -10) !== 0;
    const kernel = labKernel();
    const cmd = niced ? ['nice', '-n', String(opts.nice ?? -10), kernel] : [kernel];
    const child = spawn(cmd[0]!, [...cmd.slice(1), ...argv], {
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
      env: { ...process.env, TMPDIR: memoryDir(dir) },
    });
    let output = '';
    const onData = (b: Buffer): void => {
      const s = b.toString('utf8').replace(/\r/g, '');
      output += s;
      opts.onOutput?.(s);
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    let timedOut = false;
    // UML runs as a group of host processes; on timeout kill the whole group we started.
    const killGroup = (): void => {
      try { if (child.pid) process.kill(-child.pid, 'SIGKILL'); } catch { /* already gone */ }
    };
    const timer = setTimeout(() => { timedOut = true; killGroup(); }, (timeoutSec + BOOT_GRACE_SEC) * 1000);
    // A caller that exits (test runner killed, Ctrl-C) takes its guest with it.
    process.once('exit', killGroup);
    const status = await new Promise<number | null>((res) => {
      child.on('error', (e) => { output += `lab: cannot start ${kernel}: ${e.message}\n`; res(null); });
      child.on('close', (code) => res(code));
    });
    clearTimeout(timer);
    process.removeListener('exit', killGroup);
    killGroup(); // stray helper processes of a guest that panicked
    void status;
    const exitMatch = /WANBOND_LAB_EXIT=(\d+)/.exec(output);
    const bootMatch = /WANBOND_LAB_BOOTED uptime=([\d.]+)/.exec(output);
    let result: unknown = null;
    try {
      result = JSON.parse(await readFile(join(dir, 'result.json'), 'utf8'));
    } catch { /* the scenario wrote none, or died mid-write */ }
    let exitCode = exitMatch ? Number(exitMatch[1]) : 255;
    if (timedOut || exitCode === 124) { timedOut = true; exitCode = 124; }
    return {
      exitCode, output, result, timedOut,
      bootSec: bootMatch ? Number(bootMatch[1]) : null,
      wallSec: (Date.now() - started) / 1000,
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
