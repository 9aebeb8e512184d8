import { describe, expect, it } from 'vitest';
import { createPartitioner } from './partitioner.js';

// murmur2 of these keys as computed by the Java client (org.apache.kafka.common.utils.Utils.murmur2), from the
// table kafkajs's own tests were generated with (tulios/kafkajs src/producer/partitioners/default/murmur2.spec.js,
// "Generated with src/producer/partitioners/defaultJava/Test.java"). The Java DefaultPartitioner places a keyed
// record on toPositive(murmur2(key)) % numPartitions, toPositive(x) = x & 0x7fffffff.
const JAVA_MURMUR2: ReadonlyArray<[string, number]> = [
  ['0', 971027396],
  ['1', -1993445489],
  ['128', -326012175],
  ['2187', -1508407203],
  ['16384', -325739742],
  ['78125', -1654490814],
  ['279936', 1462227128],
  ['823543', -2014198330],
];

describe('createPartitioner', () => {
  it.each([1, 3, 7, 12])('places keyed records where the Java client does (%i partitions)', (n) => {
    const p = createPartitioner(n);
    for (const [key, hash] of JAVA_MURMUR2) {
      expect(p.partition('content.changes.v1', key)).toBe((hash & 0x7fffffff) % n);
    }
  });

  it('gives a key the same partition on every topic (co-partitioning)', () => {
    const p = createPartitioner(3);
    for (const key of ['confluence/OPS-1', 'zendesk/42', 'gdrive/abc']) {
      expect(p.partition('sync.events.v1', key)).toBe(p.partition('content.changes.v1', key));
    }
  });

  it('sends keyless records round-robin per topic, starting at partition 0', () => {
    const p = createPartitioner(3);
    const a = [0, 1, 2, 3].map(() => p.partition('a', null));
    const b = [0, 1].map(() => p.partition('b', null));
    expect(a).toEqual([0, 1, 2, 0]);
    expect(b).toEqual([0, 1]);
  });

  it.each([0, -1, 1.5, Number.NaN])('rejects %s partitions', (n) => {
    expect(() => createPartitioner(n)).toThrow(
      new RangeError(`partitions must be a positive integer, got ${String(n)}`),
    );
  });
});
