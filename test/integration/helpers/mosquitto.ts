// Runs Debian's real mosquitto for a test: free loopback port, generated config in a temp dir,
// optionally username/password (mosquitto_passwd) and TLS (a CA and a server certificate made
// with openssl for that test only). stop() and start() keep the port and the persistence file,
// so a test can take the broker away and bring the same one back.
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync, readFileSync, rmSync } from 'node:fs';
import { createServer, connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface BrokerOptions {
  /** Require this login (anonymous clients are refused). */
  auth?: { username: string; password: string };
  /** Listen with TLS, using a CA generated for this broker. */
  tls?: boolean;
  /** Speak MQTT over WebSocket (ws://, or wss:// with tls). */
  websockets?: boolean;
  /** Keep retained messages and persistent sessions across stop()/start(). */
  persistence?: boolean;
}

export interface Broker {
  port: number;
  /** mqtt://, mqtts://, ws:// or wss:// URL of the listener (host 127.0.0.1, or localhost for TLS to match the certificate). */
  url: string;
  /** The generated CA certificate (TLS brokers only). */
  caFile?: string;
  dir: string;
  start(): Promise<void>;
  /** Clean shutdown (SIGTERM), waits for the process to exit. */
  stop(): Promise<void>;
  /** Freeze the broker (SIGSTOP), resolved once the kernel shows it stopped: connections stay open, nothing is answered. */
  pause(): Promise<void>;
  /** Thaw it (SIGCONT). */
  resume(): void;
  /** The broker's log so far (for failure messages). */
  log(): string;
  /** stop() and remove the temp dir. */
  dispose(): Promise<void>;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() => (typeof addr === 'object' && addr ? resolve(addr.port) : reject(new Error('no port'))));
    });
  });
}

function openssl(args: string[], cwd: string): void {
  execFileSync('openssl', args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
}

/** A CA and a server certificate for localhost / 127.0.0.1, signed by it. */
export function makeCertificates(dir: string): { ca: string; cert: string; key: string } {
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  openssl(['req', '-x509', ...ec, '-keyout', 'ca.key', '-out', 'ca.crt', '-days', '2', '-subj', '/CN=wanbond test CA',
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign'], dir);
  openssl(['req', ...ec, '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=localhost'], dir);
  writeFileSync(join(dir, 'server.ext'), 'subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n');
  openssl(['x509', '-req', '-in', 'server.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial',
    '-out', 'server.crt', '-days', '2', '-extfile', 'server.ext'], dir);
  return { ca: join(dir, 'ca.crt'), cert: join(dir, 'server.crt'), key: join(dir, 'server.key') };
}

async function waitForPort(port: number, proc: ChildProcess, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (proc.exitCode !== null) throw new Error(`mosquitto exited with ${proc.exitCode}`);
    const ok = await new Promise<boolean>((res) => {
      const s = connect(port, '127.0.0.1');
      s.once('connect', () => { s.destroy(); res(true); });
      s.once('error', () => res(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`mosquitto did not listen on ${port} within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export async function startMosquitto(o: BrokerOptions = {}): Promise<Broker> {
  const dir = mkdtempSync(join(tmpdir(), 'wanbond-mosquitto-'));
  const port = await freePort();
  const logFile = join(dir, 'mosquitto.log');
  const lines = [
    `listener ${port} 127.0.0.1`,
    ...(o.websockets ? ['protocol websockets'] : []),
    // As root, mosquitto would switch to the "mosquitto" user and lose access to the temp dir.
    ...(process.getuid?.() === 0 ? ['user root'] : []),
    `log_dest file ${logFile}`,
    'log_type all',
    'log_timestamp_format %H:%M:%S',
    `allow_anonymous ${o.auth ? 'false' : 'true'}`,
  ];
  if (o.auth) {
    const pw = join(dir, 'passwd');
    execFileSync('mosquitto_passwd', ['-b', '-c', pw, o.auth.username, o.auth.password], { stdio: 'ignore' });
    lines.push(`password_file ${pw}`);
  }
  let caFile: string | undefined;
  if (o.tls) {
    const c = makeCertificates(dir);
    caFile = c.ca;
    lines.push(`cafile ${c.ca}`, `certfile ${c.cert}`, `keyfile ${c.key}`);
  }
  // mosquitto 2.0.11 refuses to start with websockets listeners only; a plain one beside it helps.
  if (o.websockets) lines.push(`listener ${await freePort()} 127.0.0.1`, 'protocol mqtt');
  if (o.persistence) lines.push('persistence true', `persistence_location ${dir}/`, 'autosave_interval 1');
  const conf = join(dir, 'mosquitto.conf');
  writeFileSync(conf, lines.join('\n') + '\n');

  let proc: ChildProcess | undefined;
  const broker: Broker = {
    port,
    url: `${o.websockets ? (o.tls ? 'wss' : 'ws') : o.tls ? 'mqtts' : 'mqtt'}://${o.tls ? 'localhost' : '127.0.0.1'}:${port}`,
    caFile,
    dir,
    async start() {
      if (proc && proc.exitCode === null) return;
      const p = spawn('mosquitto', ['-c', conf], { stdio: ['ignore', 'ignore', 'pipe'] });
      let err = '';
      p.stderr?.on('data', (d) => (err += d));
      proc = p;
      try {
        await waitForPort(port, p, 15_000);
      } catch (e) {
        throw new Error(`${(e as Error).message}\n${err}\n${broker.log()}`);
      }
    },
    async stop() {
      const p = proc;
      if (!p || p.exitCode !== null || p.signalCode !== null) return;
      p.kill('SIGCONT');
      await new Promise<void>((res) => {
        const t = setTimeout(() => p.kill('SIGKILL'), 10_000);
        p.once('exit', () => { clearTimeout(t); res(); });
        p.kill('SIGTERM');
      });
    },
    async pause() {
      const p = proc;
      if (!p?.pid) return;
      p.kill('SIGSTOP');
      const deadline = Date.now() + 10_000;
      // Field 3 of /proc/<pid>/stat is the state; T = stopped.
      while (readFileSync(`/proc/${p.pid}/stat`, 'utf8').replace(/^.*\) /s, '')[0] !== 'T') {
        if (Date.now() > deadline) throw new Error('mosquitto did not stop');
        await new Promise((r) => setTimeout(r, 10));
      }
    },
    resume() {
      proc?.kill('SIGCONT');
    },
    log() {
      try {
        return readFileSync(logFile, 'utf8');
      } catch {
        return '';
      }
    },
    async dispose() {
      await broker.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  await broker.start();
  return broker;
}
