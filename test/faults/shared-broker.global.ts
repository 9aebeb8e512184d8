// Vitest globalSetup of the fault suite: one broker for every row whose fault is not the broker itself
// (rebalance, duplicates, codecs, a slow or large record, …). Each of those rows uses topics and groups of
// its own, so they share it safely; the rows that restart, kill or freeze a broker keep one each (rows.ts).
// The broker starts in the background, so rows with a broker of their own (sorted first) run meanwhile;
// a shared row waits for the status file this writes once the broker serves consumer groups.
import { rmSync } from 'node:fs';
import { rm, writeFile } from 'node:fs/promises';
import type { TestProject } from 'vitest/node';
import { FaultBroker } from './broker.js';
import { Cluster } from './cluster.js';
import { SHARED_PORT, sharedStatusFile, warmUp, type SharedStatus } from './shared-broker.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** Port of the fault suite's shared broker (controller on port + 1). */
    faultSharedPort: number;
  }
}

export default function setup(project: TestProject): () => Promise<void> {
  const port = SHARED_PORT;
  project.provide('faultSharedPort', port);
  const broker = new FaultBroker(port);
  const status = sharedStatusFile(port);
  // Gone before any row can look: a file left by an earlier run must not pass for this broker.
  rmSync(status, { force: true });
  const starting = (async () => {
    const started = Date.now();
    let result: SharedStatus;
    try {
      await broker.startFresh();
      const cluster = new Cluster(broker.brokers);
      try {
        await warmUp(cluster);
      } finally {
        await cluster.close();
      }
      result = { state: 'up', startupMs: Date.now() - started };
    } catch (error) {
      result = { state: 'failed', error: String((error as Error).message ?? error) };
      console.error(
        `fault suite: the shared broker on port ${port} did not start: ${result.error}`,
      );
    }
    await writeFile(status, JSON.stringify(result));
  })();
  return async () => {
    await starting;
    await broker.dispose();
    await rm(status, { force: true });
  };
}
