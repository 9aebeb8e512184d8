// The fault suite's shared broker (started by shared-broker.global.ts): its port, the status file through
// which the global setup tells the rows it is up, and the warm-up every fresh broker gets.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { unique } from '../runtime/helpers.js';
import { kafkaCacheDir } from './broker.js';
import type { Cluster } from './cluster.js';

/**
 * Port of the shared broker (controller on port + 1), inside the suite's range 21200-21321. FAULTS_SHARED_PORT
 * moves it, for a machine where several developers run the suite at once.
 */
export const SHARED_PORT = faultPort('FAULTS_SHARED_PORT', 21300);

/** A port of the suite from the environment variable `name`, or `fallback`. */
export function faultPort(name: string, fallback: number): number {
  const text = process.env[name];
  if (text === undefined || text === '') return fallback;
  const port = Number(text);
  if (!Number.isInteger(port) || port < 1024 || port > 65534)
    throw new Error(`${name}=${text} is not a port between 1024 and 65534`);
  return port;
}

/** What the global setup wrote: the broker is up (and how long it took), or why it is not. */
export type SharedStatus = { state: 'up'; startupMs: number } | { state: 'failed'; error: string };

/** Where the global setup writes the shared broker's status. */
export function sharedStatusFile(port: number): string {
  return path.join(kafkaCacheDir(), `faults-shared-${port}.json`);
}

/** Waits for the global setup to report the shared broker up; throws its error if it failed. */
export async function sharedBrokerUp(port: number, timeoutMs = 240_000): Promise<SharedStatus> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const text = await readFile(sharedStatusFile(port), 'utf8').catch(() => undefined);
    if (text !== undefined) {
      const status = JSON.parse(text) as SharedStatus;
      if (status.state === 'failed')
        throw new Error(`the shared broker on port ${port} did not start: ${status.error}`);
      return status;
    }
    if (Date.now() > deadline)
      throw new Error(`the shared broker on port ${port} was not up after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/**
 * Waits until a fresh broker serves consumer groups: its group coordinator loads __consumer_offsets on first
 * use, and a service joining before that fails at start ("the coordinator is loading").
 */
export async function warmUp(cluster: Cluster): Promise<void> {
  const topic = unique('warm-up');
  await cluster.createTopics([{ topic, partitions: 1 }]);
  await cluster.produce(topic, [{ value: 'x' }]);
  await cluster.readAll(topic);
}
