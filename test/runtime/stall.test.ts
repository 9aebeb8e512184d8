// Readiness tells a stuck partition: a batch in hand for longer than PARTITION_STALL_TIMEOUT makes /readyz 503
// (detail `stalled`), and it turns 200 again once the partition moves.
import { describe, expect, it } from 'vitest';
import { contentEvent, echoEnv, echoHarness, echoTopics, produce, waitUntil } from './helpers.js';

const { start, collect } = echoHarness();

describe('runtime stall readiness', () => {
  it('is not ready while a partition makes no progress, ready again once it does', async () => {
    const t = await echoTopics('stall', 1);
    const s = start(echoEnv(t, { ECHO_DELAY_MS: '5000', PARTITION_STALL_TIMEOUT: '1s' }));
    await s.waitReady();
    const out = await collect([t.output]);
    await produce(t.input, [contentEvent('slow', 'doc')]);
    let stalled: number[] = [];
    await waitUntil('readiness reports the stalled partition', async () => {
      const { status, body } = await s.get('/readyz');
      stalled = (JSON.parse(body) as { stalled?: number[] }).stalled ?? [];
      return status === 503 && stalled.length > 0;
    });
    expect(stalled).toEqual([0]);
    await out.waitFor('the slow record echoed', () => out.on(t.output).length >= 1);
    await s.waitReady();
    expect(JSON.parse((await s.get('/readyz')).body)).toMatchObject({ stalled: [] });
  });
});
