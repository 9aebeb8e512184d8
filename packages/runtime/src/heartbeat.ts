// Keeping the group membership while waiting: a restore, a slow record or a produce retried through a broker
// outage can each outlast the session timeout.
import type { Logger } from 'pino';

export const HEARTBEAT_EVERY_MS = 3000;

/**
 * Awaits one record's handling while heartbeating, so a record slower than the session timeout (up to
 * RECORD_TIME_BUDGET) does not get its member dropped from the group. A failed heartbeat (a rebalance) is
 * left to the commit after the batch, which handles it.
 */
export async function heartbeatWhile<T>(
  handling: Promise<T>,
  heartbeat: () => Promise<void>,
  logger: Logger,
): Promise<T> {
  const timer = setInterval(() => {
    heartbeat().catch((err: unknown) =>
      logger.debug({ err }, 'heartbeat during a slow record failed'),
    );
  }, HEARTBEAT_EVERY_MS);
  try {
    return await handling;
  } finally {
    clearInterval(timer);
  }
}

/** Awaits a promise while heartbeating the group, so a long restore does not cost the membership. */
export async function waitWithHeartbeat(
  promise: Promise<void>,
  heartbeat: () => Promise<void>,
): Promise<void> {
  let settled = false;
  const done = promise.finally(() => {
    settled = true;
  });
  while (!settled) {
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      done,
      new Promise<void>((resolve) => (timer = setTimeout(resolve, HEARTBEAT_EVERY_MS))),
    ]);
    clearTimeout(timer);
    if (!settled) await heartbeat();
  }
  await done;
}
