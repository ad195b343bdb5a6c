// One long-running `tc -batch -` per namespace, for changing a link's netem while a scenario runs.
// Starting a process freezes the lab's one-CPU guest for 0.3-1 s (fork under user-mode Linux):
// started at the moment of a cut or a spike, `tc` froze both agents exactly then, and they rightly
// judged nothing during the freeze, so every failover figure carried the lab's fork on top (a
// spike's first packet hit 0.37 s after the command, the agents stalled). A line written to a
// running tc applies at once, as a modem failing would, with no process started.
import { execa, type ResultPromise } from 'execa';

export class TcBatch {
  private proc: ResultPromise<{ stdin: 'pipe'; stdout: 'pipe'; stderr: 'pipe'; reject: false }> | null = null;
  private chain: Promise<void> = Promise.resolve();
  private out = '';
  private err = '';
  private waiting: (() => void) | null = null;

  constructor(private readonly ns: string) {}

  /**
   * `tc -n <ns> qdisc replace dev <dev> root <args>`, then a `qdisc show` of that device (its one qdisc), whose
   * line of output says the change is done (tc runs a batch's lines in order). Calls queue.
   */
  replaceRoot(dev: string, args: string[]): Promise<void> {
    const run = this.chain.then(() => this.run(dev, args));
    this.chain = run.catch(() => undefined);
    return run;
  }

  stop(): void {
    this.proc?.kill('SIGKILL');
    this.proc = null;
  }

  private start() {
    const p = execa('tc', ['-n', this.ns, '-force', '-batch', '-'], { stdin: 'pipe', stdout: 'pipe', stderr: 'pipe', reject: false });
    p.stdout.setEncoding('utf8').on('data', (s: string) => {
      this.out += s;
      this.wake();
    });
    p.stderr.setEncoding('utf8').on('data', (s: string) => {
      this.err += s;
    });
    void p.then(() => {
      if (this.proc === p) this.proc = null;
      this.wake();
    });
    this.proc = p;
    return p;
  }

  private wake(): void {
    const w = this.waiting;
    this.waiting = null;
    w?.();
  }

  private async run(dev: string, args: string[]): Promise<void> {
    const p = this.proc ?? this.start();
    this.out = '';
    this.err = '';
    p.stdin.write(`qdisc replace dev ${dev} root ${args.join(' ')}\nqdisc show dev ${dev}\n`);
    const deadline = Date.now() + 10_000;
    while (!this.out.includes('\n')) {
      if (this.proc !== p) throw new Error(`tc batch in ${this.ns} exited: ${this.err.trim()}`);
      if (Date.now() > deadline) throw new Error(`tc batch in ${this.ns}: no answer in 10 s`);
      await new Promise<void>((resolve) => {
        this.waiting = resolve;
        setTimeout(resolve, 100);
      });
    }
    if (this.err.trim()) throw new Error(`tc -n ${this.ns} qdisc replace dev ${dev} root ${args.join(' ')}: ${this.err.trim()}`);
  }
}
