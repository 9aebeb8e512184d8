// A service process kept running the way a platform's supervisor (Kubernetes, systemd) would: a process
// that exits on its own is started again after a pause. Every exit is recorded, so a test can tell a
// service that rode out a fault (no exits), one that exited and recovered, and one that crash-loops.
import type { FaultService } from './service.js';

/** One exit of a supervised process that the test did not ask for. */
export interface Exit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly at: number;
  /** Last error log messages, for the report of a failed test. */
  readonly last: string;
  /** The end of its stderr (where a start-up check prints its problems). */
  readonly stderr: string;
}

/** Runs `spawn()` and restarts it `restartDelayMs` after any exit until stop(). */
export class Supervised<P extends FaultService> {
  readonly exits: Exit[] = [];
  /** Every process it started, oldest first (for dumping logs of a failed test). */
  readonly history: P[] = [];
  #current: P;
  #stopping = false;
  #pending: Promise<void> = Promise.resolve();

  constructor(
    readonly name: string,
    private readonly spawn: () => P,
    private readonly restartDelayMs = 1_000,
  ) {
    this.#current = this.#start();
  }

  /** True once stop() was called. */
  get stopped(): boolean {
    return this.#stopping;
  }

  get current(): P {
    return this.#current;
  }

  /** Exits with a non-zero code or a signal the test did not send. */
  get crashes(): number {
    return this.exits.length;
  }

  #start(): P {
    const p = this.spawn();
    this.history.push(p);
    void p.exited.then((code) => {
      if (this.#stopping || p !== this.#current || p.intended) return;
      this.exits.push({
        code,
        signal: p.exitSignal,
        at: Date.now(),
        last: [
          // The fatal line says why it exited; kafkajs errors logged while leaving come after it.
          ...p.logs.filter((l) => l.level === 'fatal'),
          ...p.logs.filter((l) => l.level === 'error').slice(-2),
        ]
          .map((l) => {
            const err = l['err'] as { message?: string } | undefined;
            return `${l.msg ?? ''}${err?.message ? `: ${err.message}` : ''}`.slice(0, 400);
          })
          .join(' | '),
        stderr: p.stderr.slice(-2000),
      });
      this.#pending = new Promise((resolve) =>
        setTimeout(() => {
          if (!this.#stopping) this.#current = this.#start();
          resolve();
        }, this.restartDelayMs),
      );
    });
    return p;
  }

  /** Waits until the current process is ready, following restarts. */
  async waitReady(timeoutMs = 90_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const p = this.#current;
      try {
        await p.waitReady(Math.max(1_000, deadline - Date.now()));
        return;
      } catch (error) {
        if (Date.now() > deadline) throw error;
        await this.#pending;
        if (p === this.#current) await new Promise((r) => setTimeout(r, 500));
      }
    }
  }

  /** Stops the current process cleanly (SIGTERM) and does not restart it. */
  async stop(): Promise<void> {
    this.#stopping = true;
    await this.#pending;
    await this.#current.terminate();
  }

  dump(): void {
    for (const p of this.history) p.dump();
    if (this.exits.length > 0)
      console.log(`--- ${this.name} exits ---\n${JSON.stringify(this.exits, null, 1)}`);
  }
}
