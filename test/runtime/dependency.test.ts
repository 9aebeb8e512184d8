// A dependency outage is not bad data: a record whose handler throws DependencyUnavailableError pauses its
// partition and is tried again with backoff — processed once when the dependency is back, never dead-lettered.
import { describe, expect, it } from 'vitest';
import {
  committedOffsets,
  contentEvent,
  echoEnv,
  echoHarness,
  echoTopics,
  endOffsets,
  produce,
  waitUntil,
} from './helpers.js';
import type { EchoOutput } from '@tidemark/runtime/testing';

const { start, collect } = echoHarness();

describe('runtime dependency outages', () => {
  it('retries a record whose dependency is unavailable 3 times, then processes it once; nothing on the DLQ', async () => {
    const t = await echoTopics('dependency', 1);
    await produce(t.input, [
      contentEvent('before', 'doc-a'),
      contentEvent('outage', 'doc-b', { title: 'registry-down' }),
      contentEvent('after', 'doc-c'),
    ]);
    const out = await collect([t.output, t.dlq, t.findings]);
    const s = start(
      echoEnv(t, { ECHO_UNAVAILABLE_TITLE: 'registry-down', ECHO_UNAVAILABLE_TIMES: '3' }),
    );
    // While the record waits, /readyz says so.
    let sawWaiting = false;
    await waitUntil('readiness reports the wait', async () => {
      const { status, body } = await s.get('/readyz').catch(() => ({ status: 0, body: '{}' }));
      const detail = JSON.parse(body) as { waitingOnDependency?: string[] };
      sawWaiting = status === 503 && (detail.waitingOnDependency ?? []).length === 1;
      return sawWaiting || out.on(t.output).length >= 3;
    });
    await out.waitFor('3 echoes', () => out.on(t.output).length >= 3);
    const ends = await endOffsets(t.input);
    await waitUntil('input committed to the end', async () => {
      const committed = await committedOffsets(`tidemark-${t.service}`, t.input);
      return committed.get(0) === ends.get(0);
    });
    await s.waitReady();
    expect(sawWaiting).toBe(true);
    expect(out.json<EchoOutput>(t.output).map((e) => e.sourceId)).toEqual([
      'before',
      'outage',
      'after',
    ]);
    expect(out.on(t.dlq)).toEqual([]);
    expect(out.on(t.findings)).toEqual([]);
    const retries = s.logs.filter(
      (l) => l.msg === 'dependency unavailable; partition paused, the record will be retried',
    );
    expect(retries.map((l) => l['attempt'])).toEqual([0, 1, 2]);
    expect(retries.every((l) => l['offset'] === '1' && l['dependency'] === 'echo-dependency')).toBe(
      true,
    );
  });
});
