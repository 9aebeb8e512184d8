// The ways a poison record is broken on purpose: each form is what a real producer gets wrong.
import type { PoisonAction } from './plan.js';
import type { SimRecord } from './types.js';

/** A poison record's well-formed CloudEvent, before it is broken. */
export interface PoisonEvent {
  specversion: string;
  id: string;
  source: string;
  type: string;
  time: string;
  subject: string;
  data: Record<string, unknown>;
}

/** Breaks `event` (about `system`/`docId`) in the form the plan asks for; `base` is the record's topic, key and time. */
export function breakRecord(
  a: PoisonAction,
  base: Pick<SimRecord, 'topic' | 'key' | 'time'>,
  event: PoisonEvent,
  docId: string,
  system: string,
): SimRecord {
  const data = event.data;
  switch (a.form) {
    case 'invalid-json': {
      // A record cut off mid-way: an object prefix without its closing brace is never valid JSON.
      const text = JSON.stringify(event);
      return { ...base, value: text.slice(0, Math.floor(text.length * 0.6)) };
    }
    case 'not-cloudevent':
      // What a misconfigured connector sends: its own payload, no CloudEvents envelope.
      return {
        ...base,
        value: JSON.stringify({
          op: 'update',
          docId,
          system,
          payload: { title: 'untitled' },
        }),
      };
    case 'unknown-type':
      return {
        ...base,
        value: JSON.stringify({
          ...event,
          type: a.topic === 'inventory' ? 'inventory.delta' : 'content.renamed',
        }),
      };
    case 'schema': {
      // A field of the wrong type: the event is well-formed JSON and CloudEvents, but breaks its schema.
      const broken =
        a.topic === 'inventory'
          ? { ...data, chunk: 'first' }
          : { ...data, revision: `r${String(data['revision'])}` };
      return { ...base, value: JSON.stringify({ ...event, data: broken }) };
    }
    case 'framed': {
      // Confluent wire format: magic byte 0, 4-byte big-endian schema id, then a JSON payload that breaks the
      // registered event schema (revision as a string).
      const payload = Buffer.from(
        JSON.stringify({ ...event, data: { ...data, revision: String(data['revision']) } }),
      );
      const header = Buffer.alloc(5);
      header.writeUInt8(0, 0);
      header.writeUInt32BE(a.schemaId, 1);
      return {
        ...base,
        value: Buffer.concat([header, payload]).toString('base64'),
        encoding: 'base64',
      };
    }
  }
}
