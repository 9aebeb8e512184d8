// Types of the few kafkajs 2.2.4 internals topic-access.ts uses to send a Metadata v8 request, which kafkajs's
// public API cannot (its metadata stops at v6, before topic_authorized_operations). kafkajs is pinned and no
// longer maintained, so these files do not move.
declare module 'kafkajs/src/protocol/encoder.js' {
  export default class Encoder {
    writeInt16(value: number): this;
    writeInt32(value: number): this;
    writeBoolean(value: boolean): this;
    writeString(value: string | null): this;
    writeArray(values: Array<string | number | Encoder>, type?: 'int32' | 'string'): this;
    readonly buffer: Buffer;
  }
}

declare module 'kafkajs/src/protocol/decoder.js' {
  export default class Decoder {
    constructor(buffer: Buffer);
    readInt16(): number;
    readInt32(): number;
    readBoolean(): boolean;
    readString(): string | null;
    readArray<T>(read: (decoder: Decoder) => T): T[];
  }
}
