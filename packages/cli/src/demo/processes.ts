// The demo's services, each started as its own process: readiness, liveness and a clean stop.
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, readFileSync } from 'node:fs';
import path from 'node:path';
import { ProduceAborted as DemoAborted } from '../sim-io.js';
import type { DemoProcess } from './layout.js';

/** A part of the demo died while it ran (a service process, or the consumer reading the outputs). */
export class DemoComponentFailed extends Error {
  override readonly name = 'DemoComponentFailed';
  readonly retriable = false;
  constructor(
    readonly component: string,
    detail: string,
    options?: { cause?: unknown },
  ) {
    super(`${component} ${detail}`, options);
  }
}

export interface Running {
  ready(timeoutMs: number, signal?: AbortSignal): Promise<void>;
  /** Throws DemoComponentFailed when the process has exited. */
  checkAlive(): void;
  stop(): Promise<void>;
}

export function startService(
  options: { readonly root: string; readonly out: string },
  proc: DemoProcess,
): Running {
  const main = path.join(options.root, 'services', proc.folder, 'dist', 'main.js');
  const logFile = path.join(options.out, 'logs', `${proc.service}.log`);
  const log = createWriteStream(logFile);
  const child: ChildProcess = spawn(
    process.execPath,
    ['--import', '@tidemark/runtime/otel', main],
    {
      cwd: options.root,
      env: { PATH: process.env['PATH'] ?? '', ...proc.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  child.stdout?.pipe(log, { end: false });
  child.stderr?.pipe(log, { end: false });
  let exitCode: number | null = null;
  const exited = new Promise<void>((resolve) =>
    child.once('exit', (code, sig) => {
      exitCode = code ?? (sig ? 128 : 1);
      resolve();
    }),
  );
  const tail = () => {
    try {
      return readFileSync(logFile, 'utf8').split('\n').slice(-15).join('\n');
    } catch {
      return '';
    }
  };
  return {
    async ready(timeoutMs, signal) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        if (signal?.aborted) throw new DemoAborted('interrupted');
        if (exitCode !== null)
          throw new Error(
            `${proc.service} exited with ${exitCode} while starting; ${logFile}:\n${tail()}`,
          );
        try {
          const res = await fetch(`http://127.0.0.1:${proc.httpPort}/readyz`);
          if (res.ok) return;
        } catch {
          // not listening yet
        }
        if (Date.now() > deadline)
          throw new Error(
            `${proc.service} not ready after ${timeoutMs / 1000}s; ${logFile}:\n${tail()}`,
          );
        await sleep(250);
      }
    },
    checkAlive() {
      if (exitCode !== null)
        throw new DemoComponentFailed(
          proc.service,
          `exited with ${exitCode} while the demo ran; ${logFile}:\n${tail()}`,
        );
    },
    async stop() {
      if (exitCode === null) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 25_000);
        await exited;
        clearTimeout(timer);
      }
      log.end();
    },
  };
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
