// A real Alertmanager (Debian's prometheus-alertmanager) on a loopback port, for the bridge's tests: started and
// stopped by the test, single instance, no gossip port. CI installs the package; elsewhere the tests skip.
import { spawn, spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const AM_BIN = 'prometheus-alertmanager';

/** Whether the binary is here; in CI its absence is an error, not a skip. */
export function haveAlertmanager(): boolean {
  const ok = spawnSync(AM_BIN, ['--version']).status === 0;
  if (!ok && process.env['CI'])
    throw new Error(
      `${AM_BIN} is not installed; CI must install the prometheus-alertmanager package`,
    );
  if (!ok) console.warn(`skipping the Alertmanager tests: ${AM_BIN} is not installed`);
  return ok;
}

export async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const { port } = s.address() as AddressInfo;
  await new Promise((resolve) => s.close(resolve));
  return port;
}

/** An alert as Alertmanager's API v2 lists it. */
export interface ListedAlert {
  labels: Record<string, string>;
  annotations: Record<string, string>;
  startsAt: string;
  endsAt: string;
  generatorURL?: string;
  status: { state: string };
}

/** One Alertmanager on a fixed port; `start` again after `stop` serves the same URL (a restart). */
export class AlertmanagerServer {
  readonly dir = mkdtempSync(join(tmpdir(), 'tidemark-am-'));
  #child: ChildProcess | undefined;
  output = '';

  constructor(readonly port: number) {
    writeFileSync(
      join(this.dir, 'alertmanager.yml'),
      'route:\n  receiver: blackhole\nreceivers:\n  - name: blackhole\n',
    );
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    const child = spawn(
      AM_BIN,
      [
        `--config.file=${join(this.dir, 'alertmanager.yml')}`,
        `--storage.path=${join(this.dir, 'data')}`,
        `--web.listen-address=127.0.0.1:${this.port}`,
        '--cluster.listen-address=', // no gossip port: a single, loopback-only instance
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    this.#child = child;
    child.stdout?.on('data', (c: Buffer) => (this.output += c.toString()));
    child.stderr?.on('data', (c: Buffer) => (this.output += c.toString()));
    const deadline = Date.now() + 20_000;
    for (;;) {
      const ready = await fetch(`${this.url}/-/ready`).then(
        (r) => r.ok,
        () => false,
      );
      if (ready) return;
      if (child.exitCode !== null || Date.now() > deadline)
        throw new Error(`Alertmanager did not become ready:\n${this.output}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  async stop(): Promise<void> {
    const child = this.#child;
    this.#child = undefined;
    if (child && child.exitCode === null) {
      child.kill('SIGTERM');
      await new Promise((resolve) => child.once('exit', resolve));
    }
  }

  async dispose(): Promise<void> {
    await this.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }

  /** Alerts Alertmanager holds (active, suppressed or unprocessed; resolved ones drop out). */
  async alerts(): Promise<ListedAlert[]> {
    return (await (await fetch(`${this.url}/api/v2/alerts`)).json()) as ListedAlert[];
  }
}
