// Running programs inside the lab's network namespaces: argv arrays only, each with a timeout.
import { mkdirSync } from 'node:fs';
import { execa, type ResultPromise } from 'execa';

export interface ExecOptions {
  /** Default 30 s. */
  timeoutMs?: number;
  input?: string;
  /** Default true: a non-zero exit throws, with the command and its stderr in the message. */
  reject?: boolean;
  env?: Record<string, string>;
}

export interface ExecResult {
  stdout: string;
  stderr: string;
  exitCode: number;
}

export interface SpawnedProcess {
  pid: number | undefined;
  argv: string[];
  /** stdout and stderr so far (the last 64 KiB). */
  output(): string;
  /** Resolves when the process has exited (never rejects). */
  exited: Promise<number | null>;
  /** SIGTERM, then SIGKILL after 2 s; resolves once it has exited. */
  stop(): Promise<void>;
}

// wireguard-go keeps its control socket in /var/run/wireguard (one directory for every
// namespace); the agent keeps its own in /var/run/wanbond. An isolated run binds a per-namespace
// directory over both, inside the private mount namespace `ip netns exec` already creates.
const ISO_ROOT = '/run/lab/iso';
const ISO_SCRIPT = 'd=$1; shift; mount --bind "$d/wireguard" /run/wireguard && mount --bind "$d/wanbond" /run/wanbond && exec "$@"';

export function nsArgv(ns: string, argv: string[]): string[] {
  return ['netns', 'exec', ns, ...argv];
}

export function isolatedArgv(ns: string, argv: string[]): string[] {
  const dir = `${ISO_ROOT}/${ns}`;
  for (const d of [`${dir}/wireguard`, `${dir}/wanbond`, '/run/wireguard', '/run/wanbond']) mkdirSync(d, { recursive: true });
  return nsArgv(ns, ['sh', '-c', ISO_SCRIPT, 'lab-isolated', dir, ...argv]);
}

export async function execIp(ipArgv: string[], opts: ExecOptions = {}): Promise<ExecResult> {
  const r = await execa('ip', ipArgv, {
    timeout: opts.timeoutMs ?? 30_000,
    input: opts.input,
    reject: false,
    env: opts.env,
    stripFinalNewline: false,
  });
  const res = { stdout: String(r.stdout ?? ''), stderr: String(r.stderr ?? ''), exitCode: r.exitCode ?? -1 };
  if ((opts.reject ?? true) && res.exitCode !== 0) {
    const why = r.timedOut ? 'timed out' : `exit ${res.exitCode}`;
    throw new Error(`lab: ip ${ipArgv.join(' ')}: ${why}: ${res.stderr.trim() || res.stdout.trim()}`);
  }
  return res;
}

export function spawnIp(ipArgv: string[], env?: Record<string, string>): SpawnedProcess {
  const child: ResultPromise = execa('ip', ipArgv, { reject: false, all: true, buffer: false, env, stdin: 'ignore' });
  let out = '';
  child.all?.on('data', (b: Buffer) => {
    out += b.toString('utf8');
    if (out.length > 65536) out = out.slice(-65536);
  });
  const exited = child.then((r) => r.exitCode ?? null, () => null);
  return {
    pid: child.pid,
    argv: ipArgv,
    output: () => out,
    exited,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), 2000);
      await exited;
      clearTimeout(t);
    },
  };
}
