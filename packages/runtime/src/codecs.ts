import { randomBytes } from 'node:crypto';
import { TidemarkError } from '@tidemark/core';
import type { RecordHeaders } from '@tidemark/core';
import { compress as zstdCompress, decompress as zstdDecompress } from '@mongodb-js/zstd';
import kafkajs from 'kafkajs';
import SnappyCodec from 'kafkajs-snappy';
import { compressFrame as lz4Compress, decompressFrame as lz4Decompress } from 'lz4-napi';

/** A record batch whose compressed payload could not be decompressed: its records go to the DLQ. */
export class UndecodableBatchError extends TidemarkError {
  constructor(
    message: string,
    options: { cause?: unknown; context?: Record<string, unknown> } = {},
  ) {
    super(message, { ...options, retriable: false });
  }
}

/** The kafkajs codec interface: compress gets an encoder holding the records, decompress the batch payload. */
export interface KafkaCodec {
  compress(encoder: { buffer: Buffer }): Promise<Buffer>;
  decompress(buffer: Buffer): Promise<Buffer>;
}

// Per-process name of the header that marks a stand-in record (see undecodableRecords): no producer can
// guess it, so a real record can never pass for one.
const UNDECODABLE_HEADER = `__tidemark.undecodable.${randomBytes(6).toString('hex')}`;

/** The reason a consumed record stands for an undecodable batch, or undefined for an ordinary record. */
export function undecodableReason(headers: RecordHeaders): string | undefined {
  return headers[UNDECODABLE_HEADER];
}

/** The headers without the stand-in marker (what the DLQ copy carries). */
export function withoutUndecodableMarker(headers: RecordHeaders): RecordHeaders {
  const { [UNDECODABLE_HEADER]: _marker, ...rest } = headers;
  return rest;
}

// Record batch v2 header, in bytes: firstOffset 8, length 4, partitionLeaderEpoch 4, magic 1, crc 4,
// attributes 2, lastOffsetDelta 4, firstTimestamp 8, maxTimestamp 8, producerId 8, producerEpoch 2,
// firstSequence 4, record count 4; the compressed records follow.
const BATCH_HEADER_BYTES = 61;
const MAGIC_AT = 16;
const ATTRIBUTES_AT = 21;
const LAST_OFFSET_DELTA_AT = 23;
const RECORD_COUNT_AT = 57;
const CODEC_MASK = 0x07;

/** What the batch header in front of a compressed payload says, or undefined where it cannot be read. */
export function batchHeaderOf(
  payload: Buffer,
  codecType: number,
): { count: number; lastOffsetDelta: number } | undefined {
  // kafkajs hands the codec a view (Buffer#slice) into the fetch response, so the batch header sits right
  // before it in the same memory. Anything that does not look like that header is left alone.
  if (payload.byteOffset < BATCH_HEADER_BYTES) return undefined;
  const header = Buffer.from(
    payload.buffer,
    payload.byteOffset - BATCH_HEADER_BYTES,
    BATCH_HEADER_BYTES,
  );
  if (header.readInt8(MAGIC_AT) !== 2) return undefined;
  if ((header.readInt16BE(ATTRIBUTES_AT) & CODEC_MASK) !== codecType) return undefined;
  const count = header.readInt32BE(RECORD_COUNT_AT);
  const lastOffsetDelta = header.readInt32BE(LAST_OFFSET_DELTA_AT);
  if (count <= 0 || lastOffsetDelta < count - 1) return undefined;
  return { count, lastOffsetDelta };
}

function zigzagVarint(value: number): number[] {
  let v = value >= 0 ? value * 2 : -value * 2 - 1;
  const bytes: number[] = [];
  while (v >= 0x80) {
    bytes.push((v & 0x7f) | 0x80);
    v = Math.floor(v / 128);
  }
  bytes.push(v);
  return bytes;
}

/** One v2 record (uncompressed wire form) without key and value, with one header. */
function standInRecord(offsetDelta: number, header: string, value: string): Buffer {
  const name = Buffer.from(header, 'utf8');
  const text = Buffer.from(value, 'utf8');
  const body = Buffer.from([
    0, // attributes
    ...zigzagVarint(0), // timestampDelta: the batch's first timestamp
    ...zigzagVarint(offsetDelta),
    ...zigzagVarint(-1), // key: null
    ...zigzagVarint(-1), // value: null
    ...zigzagVarint(1), // one header
    ...zigzagVarint(name.length),
    ...name,
    ...zigzagVarint(text.length),
    ...text,
  ]);
  return Buffer.concat([Buffer.from(zigzagVarint(body.length)), body]);
}

/**
 * The decompressed form of a batch that could not be decompressed: one stand-in record per record of the
 * batch (the last at the batch's last offset, so the consumer moves past the whole batch), each marked
 * with the reason. The runtime dead-letters them; the consumer never crashes on the batch again.
 */
export function undecodableRecords(count: number, lastOffsetDelta: number, reason: string): Buffer {
  const records: Buffer[] = [];
  for (let i = 0; i < count; i++) {
    const delta = i === count - 1 ? lastOffsetDelta : i;
    records.push(standInRecord(delta, UNDECODABLE_HEADER, reason));
  }
  return Buffer.concat(records);
}

/** Wraps a codec so a payload it cannot decompress turns into stand-in records instead of a consumer crash. */
export function tolerant(codec: KafkaCodec, name: string, codecType: number): KafkaCodec {
  return {
    compress: (encoder) => codec.compress(encoder),
    async decompress(buffer) {
      try {
        return await codec.decompress(buffer);
      } catch (error) {
        const header = batchHeaderOf(buffer, codecType);
        if (!header) throw error;
        const detail = error instanceof Error ? error.message : String(error);
        return undecodableRecords(
          header.count,
          header.lastOffsetDelta,
          `record batch compressed with ${name} could not be decompressed: ${detail}`.slice(0, 500),
        );
      }
    },
  };
}

const lz4: KafkaCodec = {
  // Kafka's LZ4 is the LZ4 frame format.
  compress: (encoder) => lz4Compress(encoder.buffer),
  decompress: (buffer) => lz4Decompress(buffer),
};

// Node's ESM loader does not see CompressionCodecs as a named export of the CommonJS kafkajs.
const { CompressionCodecs, CompressionTypes } = kafkajs;

const zstd: KafkaCodec = {
  compress: (encoder) => zstdCompress(encoder.buffer, 3),
  decompress: (buffer) => zstdDecompress(buffer),
};

let registered = false;

/**
 * Registers snappy, lz4 and zstd with kafkajs (it decodes only gzip by itself), each tolerant of payloads
 * it cannot decompress; gzip is wrapped the same way. Idempotent.
 */
export function registerCodecs(): void {
  if (registered) return;
  registered = true;
  const codecs = CompressionCodecs as unknown as Record<number, () => KafkaCodec>;
  const gzip = codecs[CompressionTypes.GZIP]!();
  const snappy: KafkaCodec = SnappyCodec();
  codecs[CompressionTypes.GZIP] = () => tolerant(gzip, 'gzip', CompressionTypes.GZIP);
  codecs[CompressionTypes.Snappy] = () => tolerant(snappy, 'snappy', CompressionTypes.Snappy);
  codecs[CompressionTypes.LZ4] = () => tolerant(lz4, 'lz4', CompressionTypes.LZ4);
  codecs[CompressionTypes.ZSTD] = () => tolerant(zstd, 'zstd', CompressionTypes.ZSTD);
}
