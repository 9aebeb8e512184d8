// A Kafka broker of one fault test, on a port of its own: started fresh (empty data directory) with
// deploy/kafka/kafka.mjs, stopped cleanly with `down`, or hit with the faults a host brings — SIGKILL, and
// SIGSTOP/SIGCONT (a frozen JVM: sockets stay open, nothing answers). The pid is the one `up --json` reports.
import { execFile } from 'node:child_process';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { ROOT, waitUntil } from '../runtime/helpers.js';

const SCRIPT = path.join(ROOT, 'deploy/kafka/kafka.mjs');
const run = promisify(execFile);

/** Where kafka.mjs keeps jars, data and logs (the same default the script uses). */
export function kafkaCacheDir(): string {
  return path.resolve(process.env['KAFKA_CACHE_DIR'] || path.join(ROOT, 'deploy/kafka/.cache'));
}

/** Thrown when kafka.mjs fails; carries its stderr (which ends with the broker log's tail). */
export class BrokerScriptError extends Error {
  override readonly name = 'BrokerScriptError';
  readonly retriable = false;
  constructor(
    readonly command: string,
    readonly port: number,
    override readonly cause: unknown,
    readonly stderr: string,
  ) {
    super(`kafka.mjs ${command} on port ${port} failed: ${(cause as Error).message}\n${stderr}`);
  }
}

/** One single-node broker (KRaft) on 127.0.0.1:`port`, controller on `port + 1`. */
export class FaultBroker {
  #pid: number | null = null;
  #paused = false;
  /** How long the first start took (set by the row harness, reported in the table). */
  startupMs = 0;

  constructor(readonly port: number) {}

  /** Broker list for clients and services. */
  get brokers(): string[] {
    return [`127.0.0.1:${this.port}`];
  }

  get pid(): number | null {
    return this.#pid;
  }

  /** Its data directory: wiped before the first start, so every test begins with an empty cluster. */
  get dataDir(): string {
    return path.join(kafkaCacheDir(), 'data', String(this.port));
  }

  /** Log of the broker (kafka.mjs writes it per port). */
  get serverLog(): string {
    return path.join(kafkaCacheDir(), 'logs', String(this.port), 'server.log');
  }

  async #script(command: 'up' | 'down'): Promise<string> {
    try {
      const { stdout } = await run(
        process.execPath,
        command === 'up' ? [SCRIPT, 'up', '--json'] : [SCRIPT, 'down'],
        {
          cwd: ROOT,
          env: {
            ...process.env,
            KAFKA_PORT: String(this.port),
            KAFKA_CONTROLLER_PORT: String(this.port + 1),
            // kafka.mjs hands these flags to the JVM as they are. C1-only JIT: a broker starts ~40 % faster
            // on a busy 2-core machine (fresh 59 s vs 82 s, restart 27 s vs 44 s, measured side by side at
            // load 25), and the broker's steady-state speed is beside the point of a fault row.
            KAFKA_HEAP_OPTS: `${process.env['KAFKA_HEAP_OPTS'] || '-Xmx512m -Xms128m'} -XX:TieredStopAtLevel=1`,
          },
          maxBuffer: 16 * 1024 * 1024,
        },
      );
      return stdout;
    } catch (error) {
      throw new BrokerScriptError(
        command,
        this.port,
        error,
        (error as { stderr?: string }).stderr ?? '',
      );
    }
  }

  /** Starts a broker on an empty data directory and waits until it answers. */
  async startFresh(): Promise<void> {
    await rm(this.dataDir, { recursive: true, force: true });
    await this.start();
  }

  /** Starts the broker (keeping its data) and waits until it answers metadata requests. */
  async start(): Promise<void> {
    const out = await this.#script('up');
    const summary = JSON.parse(out.trim().split('\n').pop() ?? '{}') as {
      started?: boolean;
      pid?: number | null;
    };
    // A broker on this port that this test did not start would make every fault hit the wrong process.
    if (summary.started !== true || typeof summary.pid !== 'number')
      throw new Error(`port ${this.port}: a broker already ran there (${out.trim()})`);
    this.#pid = summary.pid;
  }

  /** Clean stop (SIGTERM, controlled shutdown). */
  async stop(): Promise<void> {
    await this.#script('down');
    this.#pid = null;
  }

  /** kill -9: no controlled shutdown, no flush beyond what the OS already has. */
  async kill9(): Promise<void> {
    const pid = this.#requirePid();
    process.kill(pid, 'SIGKILL');
    await waitUntil(`broker pid ${pid} gone`, () => !alive(pid), 30_000);
    this.#pid = null;
  }

  /** SIGSTOP: the JVM freezes; its sockets stay open, so clients see timeouts, not refused connections. */
  pause(): void {
    process.kill(this.#requirePid(), 'SIGSTOP');
    this.#paused = true;
  }

  /** SIGCONT after pause(). */
  resume(): void {
    process.kill(this.#requirePid(), 'SIGCONT');
    this.#paused = false;
  }

  /** Stops the broker if it runs (resuming a paused one first) and removes its data. */
  async dispose(): Promise<void> {
    if (this.#paused && this.#pid !== null) this.resume();
    if (this.#pid !== null && alive(this.#pid)) await this.stop();
    await rm(this.dataDir, { recursive: true, force: true });
  }

  #requirePid(): number {
    if (this.#pid === null) throw new Error(`the broker on port ${this.port} is not running`);
    return this.#pid;
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
