// A producer with a broken clock: a record dated 2099 is dead-lettered (MAX_FUTURE_SKEW) and never moves the
// partition's event time — ticks stay where the real records put them.
import { describe, expect, it } from 'vitest';
import {
  contentEvent,
  createTopics,
  echoEnv,
  echoHarness,
  echoTopics,
  produce,
  unique,
} from './helpers.js';
import type { EchoOutput } from '@tidemark/runtime/testing';

const { start, collect } = echoHarness();

describe('runtime future skew', () => {
  it('event-time mode: dead-letters a record dated 2099; ticks never pass the real records', async () => {
    const t = await echoTopics('future', 1);
    // Kafka 4 refuses record timestamps over 1h ahead by default (message.timestamp.after.max.ms): a topic
    // that allows them stands for a cluster configured so, or a producer setting them some other way.
    const input = unique('future-in-anytime');
    await createTopics([input], 1, false, {
      'message.timestamp.after.max.ms': '9223372036854775807',
    });
    t.input = input;
    const minute = 60_000;
    const base = Math.floor((Date.now() - 4 * 60 * minute) / (10 * minute)) * 10 * minute;
    const at = (i: number) => String(base + i * 10 * minute);
    const year2099 = Date.UTC(2099, 0, 1);
    const broken = contentEvent('broken-clock', 'doc-x');
    const brokenValue = JSON.parse(broken.value as string) as Record<string, unknown>;
    brokenValue['time'] = new Date(year2099).toISOString();
    await produce(t.input, [
      ...Array.from({ length: 10 }, (_, i) => ({
        ...contentEvent(`a-${i}`, `doc-${i}`),
        timestamp: at(i),
      })),
      { ...broken, value: JSON.stringify(brokenValue), timestamp: String(year2099) },
      ...Array.from({ length: 10 }, (_, i) => ({
        ...contentEvent(`b-${i}`, `doc-${i}`),
        timestamp: at(10 + i),
      })),
    ]);
    const out = await collect([t.output, t.dlq, t.findings]);
    start(
      echoEnv(t, {
        TIDEMARK_CLOCK: 'event',
        EVENT_TICK: '10m',
        EVENT_SKEW: '0s',
        ECHO_TICK: 'true',
      }),
    );
    const echoes = () =>
      out
        .json<EchoOutput & { type?: string; now?: number }>(t.output)
        .filter((e) => e.type !== 'tick');
    await out.waitFor(
      '20 echoes and 1 dead letter',
      () => echoes().length >= 20 && out.on(t.dlq).length >= 1,
    );
    const [dead] = out.on(t.dlq);
    expect(dead!.headers['tidemark.dlq.offset']).toBe('10');
    expect(dead!.headers['tidemark.dlq.error.class']).toBe('FutureEventError');
    expect(dead!.headers['tidemark.dlq.error.message']).toMatch(
      /^record timestamp 2099-01-01T00:00:00\.000Z is \d+d\S* ahead of the host clock \(.*\), more than MAX_FUTURE_SKEW=1h$/,
    );
    expect(out.on(t.dlq)).toHaveLength(1);
    expect(echoes().map((e) => e.sourceId)).not.toContain('broken-clock');
    const ticks = out
      .json<{ type?: string; now: number }>(t.output)
      .filter((e) => e.type === 'tick');
    expect(ticks.length).toBeGreaterThan(0);
    expect(Math.max(...ticks.map((k) => k.now))).toBeLessThanOrEqual(base + 19 * 10 * minute);
  });

  it('wall-clock mode: dead-letters an event whose CloudEvent time is 2h ahead', async () => {
    const t = await echoTopics('future-wall', 1);
    const ahead = contentEvent('ahead', 'doc-x');
    const value = JSON.parse(ahead.value as string) as Record<string, unknown>;
    value['time'] = new Date(Date.now() + 2 * 3_600_000).toISOString();
    await produce(t.input, [
      contentEvent('ok-1', 'doc-1'),
      { ...ahead, value: JSON.stringify(value) },
      contentEvent('ok-2', 'doc-2'),
    ]);
    const out = await collect([t.output, t.dlq]);
    start(echoEnv(t));
    await out.waitFor(
      '2 echoes and 1 dead letter',
      () => out.on(t.output).length >= 2 && out.on(t.dlq).length >= 1,
    );
    expect(out.json<EchoOutput>(t.output).map((e) => e.sourceId)).toEqual(['ok-1', 'ok-2']);
    expect(out.on(t.dlq)[0]!.headers['tidemark.dlq.error.message']).toMatch(
      /^event time .* is 1h59m\d+s\d*m?s? ahead of the host clock/,
    );
  });
});
