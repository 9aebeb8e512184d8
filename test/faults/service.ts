// A built service (services/<name>/dist/main.js) as a child process of a fault test, pointed at the test's
// own broker. Signals the test sends itself are marked as intended, so a supervisor does not count them.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { ROOT, ServiceProcess, waitUntil } from '../runtime/helpers.js';

/** The built entry point of services/<name>; a missing build fails with the command that makes it. */
export function serviceMain(name: string): string {
  const main = path.join(ROOT, 'services', name, 'dist/main.js');
  if (!existsSync(main)) throw new Error(`${main} is missing: run \`npm run build\` first`);
  return main;
}

/** One process of a service; `intended` is set when the test itself stops or kills it. */
export class FaultService extends ServiceProcess {
  intended = false;

  constructor(
    readonly service: string,
    env: Record<string, string>,
  ) {
    super({ LOG_LEVEL: 'info', ...env }, [], serviceMain(service));
  }

  override kill(signal: NodeJS.Signals): void {
    this.intended = true;
    super.kill(signal);
  }

  /** Prometheus text of /metrics. */
  async metricsText(): Promise<string> {
    const { status, body } = await this.get('/metrics');
    if (status !== 200) throw new Error(`${this.service} /metrics answered ${status}`);
    return body;
  }

  /** Sum of the samples of one counter or gauge in /metrics (0 when absent). */
  async metricSum(name: string): Promise<number> {
    let sum = 0;
    for (const line of (await this.metricsText()).split('\n')) {
      if (line.startsWith(`${name}{`) || line.startsWith(`${name} `))
        sum += Number(line.slice(line.lastIndexOf(' ') + 1));
    }
    return sum;
  }

  /** SIGTERM and wait; SIGKILL if it has not exited after `graceMs`. */
  async terminate(graceMs = 25_000): Promise<number | null> {
    if (this.child.exitCode !== null || this.exitSignal !== null) return this.child.exitCode;
    this.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), graceMs);
    const code = await this.exited;
    clearTimeout(timer);
    return code;
  }

  /** Waits for a log line with this message (the process must still run, or have logged it before exiting). */
  async waitForLog(msg: string | RegExp, timeoutMs = 60_000): Promise<void> {
    const matches = (m: unknown) =>
      typeof m === 'string' && (typeof msg === 'string' ? m === msg : msg.test(m));
    await waitUntil(
      `${this.service} to log ${String(msg)}`,
      () => this.logs.some((l) => matches(l.msg)),
      timeoutMs,
    );
  }

  override dump(): void {
    console.log(
      `--- ${this.service} pid ${this.child.pid} (exit ${this.child.exitCode ?? this.exitSignal}) ---\n${this.logs
        .slice(-60)
        .map((l) => JSON.stringify(l))
        .join('\n')}\n--- stderr ---\n${this.stderr.slice(-3000)}`,
    );
  }
}
