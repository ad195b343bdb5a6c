// One `tc -batch -` kept running, for tc commands that must take effect at once (a link leaving:
// the bond's shaper slows, delays and rates are retuned). Starting a process costs a small router
// tens of milliseconds, and the lab's one-CPU guest 0.3-1 s during which nothing is forwarded; a
// line written to a running tc applies in microseconds. Each call writes its lines and then
// a `qdisc show` of a device that does not exist: its error says tc has read them all (tc runs a
// batch's lines in order and writes its errors unbuffered to the one stream, so what came before
// that mark is the call's). Marked on stdout instead, the mark could be read before the errors.
import { execa, type ResultPromise } from 'execa';

/** A device name no system has (`tc qdisc show dev` of it fails with MARK_TEXT). */
const MARK = 'wanbond-mark';
const MARK_TEXT = `Cannot find device "${MARK}"`;

type Proc = ResultPromise<{ stdin: 'pipe'; stdout: 'pipe'; stderr: 'pipe'; reject: false }>;

export class TcSession {
  private proc: Proc | null = null;
  private chain: Promise<unknown> = Promise.resolve();
  private err = '';
  private wake: (() => void) | null = null;

  /** `ns`: run in that network namespace (`tc -n`). */
  constructor(private readonly ns?: string, private readonly timeoutMs = 5000) {}

  /** Runs `lines` (tc commands without the leading `tc`) in order; resolves with tc's errors, '' when none. */
  run(lines: string[]): Promise<string> {
    const r = this.chain.then(() => this.runNow(lines));
    this.chain = r.catch(() => undefined);
    return r;
  }

  stop(): void {
    this.proc?.kill('SIGKILL');
    this.proc = null;
  }

  private start(): Proc {
    const p = execa('tc', [...(this.ns ? ['-n', this.ns] : []), '-force', '-batch', '-'], { stdin: 'pipe', stdout: 'pipe', stderr: 'pipe', reject: false });
    p.stdout.resume();
    p.stderr.setEncoding('utf8').on('data', (s: string) => {
      this.err += s;
      this.wake?.();
    });
    p.stdin.on('error', () => undefined);
    void p.then(() => {
      if (this.proc === p) this.proc = null;
      this.wake?.();
    });
    this.proc = p;
    return p;
  }

  private async runNow(lines: string[]): Promise<string> {
    const p = this.proc ?? this.start();
    this.err = '';
    p.stdin.write([...lines, `qdisc show dev ${MARK}`, ''].join('\n'));
    const deadline = Date.now() + this.timeoutMs;
    while (!this.err.includes(MARK_TEXT)) {
      if (this.proc !== p || Date.now() > deadline) {
        const why = this.proc === p ? `gave no answer in ${this.timeoutMs} ms` : 'exited';
        this.stop();
        throw new Error(`tc -batch ${why}${this.err.trim() ? `: ${this.err.trim()}` : ''}`);
      }
      await new Promise<void>((resolve) => {
        this.wake = resolve;
        setTimeout(resolve, 50);
      });
    }
    this.wake = null;
    const mine = this.err.slice(0, this.err.indexOf(MARK_TEXT));
    return mine.split('\n').filter((l) => l.trim() && !/^Command failed -:\d+$/.test(l.trim())).join('; ');
  }
}
