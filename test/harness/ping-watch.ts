// A continuous `ping -D -i 0.05` inside a namespace: one echo every 50 ms, each reply stamped by
// ping itself with the wall-clock time it arrived. "Traffic restored at" is the first reply after
// a moment of interest, with 50 ms resolution and no process-spawn delay per attempt.
import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import type { TestRun } from './run.ts';
import type { Host } from './topology.ts';

const REPLY = /^\[(\d+\.\d+)\] \d+ bytes from ([\d.]+)/;

export class PingWatch {
  /** Wall-clock milliseconds of every reply received so far. */
  readonly replies: number[] = [];
  private readonly child: ChildProcess;
  private waiters: Array<() => void> = [];
  private exited = false;
  private stderr = '';

  private constructor(child: ChildProcess) {
    this.child = child;
    createInterface({ input: child.stdout! }).on('line', (line) => {
      const m = REPLY.exec(line);
      if (!m) return;
      this.replies.push(Math.round(Number(m[1]) * 1000));
      for (const w of this.waiters) w();
    });
    child.stderr?.setEncoding('utf8').on('data', (d: string) => {
      this.stderr = (this.stderr + d).slice(-2000);
    });
    child.on('exit', () => {
      this.exited = true;
      for (const w of this.waiters) w();
    });
  }

  /** No -w: with a deadline, ping exits on the first ICMP error (e.g. net unreachable while the
   * tunnel is not up yet). The run's cleanup kills it if `stop` is never called. */
  static start(run: TestRun, host: Host, target: string, options: { intervalS?: number } = {}) {
    const argv = ['ping', '-n', '-D', '-i', String(options.intervalS ?? 0.05), '-W', '1', target];
    const child = spawn('ip', ['netns', 'exec', host.ns, ...argv], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, MOOR_TEST_RUN: run.id },
    });
    const watch = new PingWatch(child);
    run.defer(() => watch.stop());
    return watch;
  }

  /** The arrival time of the first reply at or after `t0` (wall-clock ms). */
  firstReplyAfter(t0: number, timeoutMs: number): Promise<number> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        done();
        reject(new Error(`no ping reply within ${timeoutMs} ms`));
      }, timeoutMs);
      const check = () => {
        const hit = this.replies.find((t) => t >= t0);
        if (hit !== undefined) {
          done();
          resolve(hit);
        } else if (this.exited) {
          done();
          reject(new Error(`ping exited before any reply: ${this.stderr.trim()}`));
        }
      };
      const done = () => {
        clearTimeout(timer);
        this.waiters = this.waiters.filter((w) => w !== check);
      };
      this.waiters.push(check);
      check();
    });
  }

  stop(): void {
    if (!this.exited) this.child.kill('SIGKILL');
  }
}
