import { createRequire } from 'node:module';
import { CompressionCodecs, CompressionTypes } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import {
  UndecodableBatchError,
  batchHeaderOf,
  registerCodecs,
  undecodableReason,
  withoutUndecodableMarker,
} from './codecs.js';
import type { KafkaCodec } from './codecs.js';
import { decodeHeaders } from './records.js';

// kafkajs' own record batch decoder: the stand-in records must be what *it* reads back.
const require = createRequire(import.meta.url);
const decodeRecordBatch = require('kafkajs/src/protocol/recordBatch/v0/decoder') as (
  decoder: unknown,
) => Promise<{
  records: Array<{ offset: string; key: Buffer | null; value: Buffer | null; headers: object }>;
}>;
const KafkaDecoder = require('kafkajs/src/protocol/decoder') as new (buffer: Buffer) => unknown;

registerCodecs();
const codec = (type: number) =>
  (CompressionCodecs as unknown as Record<number, () => KafkaCodec>)[type]!();

/** A v2 record batch header for `count` records at `firstOffset`, followed by `payload`. */
function batch(
  type: number,
  count: number,
  lastOffsetDelta: number,
  payload: Buffer,
  firstOffset = 100n,
) {
  const header = Buffer.alloc(61);
  header.writeBigInt64BE(firstOffset, 0);
  header.writeInt32BE(61 - 12 + payload.length, 8); // length: from partitionLeaderEpoch to the end
  header.writeInt8(2, 16); // magic
  header.writeInt16BE(type, 21); // attributes: codec
  header.writeInt32BE(lastOffsetDelta, 23);
  header.writeBigInt64BE(1_700_000_000_000n, 27); // firstTimestamp
  header.writeBigInt64BE(1_700_000_000_000n, 35); // maxTimestamp
  header.writeBigInt64BE(-1n, 43); // producerId
  header.writeInt32BE(count, 57);
  // Inside a larger buffer, like a fetch response: the codec gets a view into it.
  return Buffer.concat([Buffer.alloc(7), header, payload]).subarray(7);
}

describe('codecs', () => {
  const sample = Buffer.from('tidemark '.repeat(200));

  it.each([
    ['snappy', CompressionTypes.Snappy],
    ['lz4', CompressionTypes.LZ4],
    ['zstd', CompressionTypes.ZSTD],
    ['gzip', CompressionTypes.GZIP],
  ])('%s round-trips through the registered kafkajs codec', async (_name, type) => {
    const compressed = await codec(type).compress({ buffer: sample });
    expect(compressed.length).toBeLessThan(sample.length);
    expect(await codec(type).decompress(compressed)).toEqual(sample);
  });

  it.each([
    ['snappy', CompressionTypes.Snappy],
    ['lz4', CompressionTypes.LZ4],
    ['zstd', CompressionTypes.ZSTD],
    ['gzip', CompressionTypes.GZIP],
  ])(
    'a %s batch that cannot be decompressed decodes as one marked stand-in per record',
    async (name, type) => {
      const records = await decodeRecordBatch(
        new KafkaDecoder(batch(type, 3, 4, Buffer.from('definitely not compressed'))),
      ).then((b) => b.records);
      expect(records.map((r) => r.offset)).toEqual(['100', '101', '104']);
      for (const r of records) {
        expect(r.key).toBeNull();
        expect(r.value).toBeNull();
        const headers = decodeHeaders(r.headers as never);
        expect(undecodableReason(headers)).toMatch(
          new RegExp(`^record batch compressed with ${name} could not be decompressed: `),
        );
        expect(withoutUndecodableMarker(headers)).toEqual({});
      }
    },
  );

  it('leaves a payload alone when no batch header precedes it (the error propagates)', async () => {
    await expect(codec(CompressionTypes.ZSTD).decompress(Buffer.from('garbage'))).rejects.toThrow();
  });

  it.each([
    ['a header of another codec', batch(CompressionTypes.LZ4, 2, 1, Buffer.from('x'))],
    ['a record count of 0', batch(CompressionTypes.ZSTD, 0, 0, Buffer.from('x'))],
    ['a last offset delta below the count', batch(CompressionTypes.ZSTD, 5, 2, Buffer.from('x'))],
  ])('batchHeaderOf refuses %s', (_case, buffer) => {
    expect(batchHeaderOf(buffer.subarray(61), CompressionTypes.ZSTD)).toBeUndefined();
  });

  it('a real record never carries the per-process marker', () => {
    expect(undecodableReason({ '__tidemark.undecodable': 'x' })).toBeUndefined();
    expect(new UndecodableBatchError('m').retriable).toBe(false);
  });
});
