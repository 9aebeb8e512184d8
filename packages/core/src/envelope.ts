import type { TSchema } from '@sinclair/typebox';
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';
import { EnvelopeError } from './errors.js';
import {
  NULL_MEANS_ABSENT,
  eventSchemas,
  type CloudEvent,
  type FindingEvent,
  type InputEvent,
} from './events.js';
import type { RecordHeaders } from './records.js';

// ajv-formats ships CommonJS with a default export; under NodeNext it arrives wrapped.
const addFormats = addFormatsModule as unknown as typeof addFormatsModule.default;

/** Limits that keep a hostile or broken record from costing more than it should. */
export interface EnvelopeLimits {
  /** Largest record value accepted, in bytes. @default 1048576 */
  maxBytes: number;
  /** Deepest nesting of objects/arrays accepted. @default 32 */
  maxDepth: number;
}

/** Default envelope limits. */
export const DEFAULT_ENVELOPE_LIMITS: EnvelopeLimits = { maxBytes: 1024 * 1024, maxDepth: 32 };

/** A record as far as the envelope parser cares: its value and headers. */
export interface EnvelopeInput {
  value: Buffer | string | null;
  headers?: RecordHeaders;
}

/** Parses records into validated CloudEvents. */
export interface EnvelopeParser<E> {
  /** Returns the validated event, or throws EnvelopeError with a reason a person can read. */
  parse(record: EnvelopeInput): E;
  /** Validates an already-parsed object (e.g. a Schema Registry payload). */
  validate(value: unknown): E;
}

/** Options of createEnvelopeParser. */
export interface EnvelopeParserOptions extends Partial<EnvelopeLimits> {
  /** More CloudEvents types to accept, with their JSON Schemas (e.g. a service's internal topic). */
  extraTypes?: Record<string, TSchema>;
}

const CE_PREFIX = 'ce_';

// One Ajv for every parser, and each schema compiled once per process: every service builds its own parser (replay
// and backtest build all five per run), and compiling the event schemas — and Ajv's meta-schema, per instance — cost
// about a second each time. Validators are used synchronously, so sharing one (its `errors` included) is safe.
let sharedAjv: Ajv | undefined;
const compiledSchemas = new WeakMap<TSchema, ValidateFunction>();

function compiled(schema: TSchema): ValidateFunction {
  let check = compiledSchemas.get(schema);
  if (check === undefined) {
    if (sharedAjv === undefined) {
      sharedAjv = new Ajv({ allErrors: true, strict: false });
      addFormats(sharedAjv, ['date-time', 'date']);
    }
    check = sharedAjv.compile(schema);
    compiledSchemas.set(schema, check);
  }
  return check;
}

/** What a parser made of a record, kept so the next parser of the same record object can hand on the same event. */
interface Decoded {
  record: EnvelopeInput;
  value: EnvelopeInput['value'];
  headers: RecordHeaders | undefined;
  limits: EnvelopeLimits;
  /** The compiled schema the event passed (parsers share one per schema object). */
  check: ValidateFunction;
  event: unknown;
}

// An in-process host hands one record object to every service that reads its topic, one service after the other
// (replay: four services read each content change), and each parses and validates it — most of replay's decode time.
// The last record's event is kept here; a parser whose validator for that type is the very same compiled schema,
// with the same limits, returns it instead of parsing again. That is only sound because decoded events are deeply
// frozen: no handler can change what the next one sees. One slot, compared by identity (record object, value and
// headers, in case a caller reuses the object): a host that never shares records pays a few comparisons, where a
// WeakMap entry per record cost more than the parse it saved.
let lastDecoded: Decoded | undefined;

/** Builds a parser for structured-mode JSON and binary-mode (`ce_*` headers) CloudEvents. */
export function createEnvelopeParser<E = InputEvent | FindingEvent>(
  options: EnvelopeParserOptions = {},
): EnvelopeParser<E> {
  const limits: EnvelopeLimits = {
    maxBytes: options.maxBytes ?? DEFAULT_ENVELOPE_LIMITS.maxBytes,
    maxDepth: options.maxDepth ?? DEFAULT_ENVELOPE_LIMITS.maxDepth,
  };
  const validators = new Map<string, ValidateFunction>();
  for (const [type, schema] of Object.entries({ ...eventSchemas, ...options.extraTypes })) {
    validators.set(type, compiled(schema));
  }

  function validate(value: unknown): E {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      throw new EnvelopeError(
        'not-cloudevent',
        'record is not a CloudEvent: expected a JSON object',
      );
    }
    const event = value as Record<string, unknown>;
    if (event['specversion'] !== '1.0') {
      throw new EnvelopeError(
        'not-cloudevent',
        // The value itself is not quoted: error text never carries record content.
        'record is not a CloudEvents 1.0 event: specversion must be "1.0"',
      );
    }
    const type = event['type'];
    if (typeof type !== 'string') {
      throw new EnvelopeError('not-cloudevent', 'record is not a CloudEvent: "type" is missing');
    }
    const check = validators.get(type);
    if (!check) {
      // An event type is an identifier; anything else is not echoed (it could be record content).
      const shown = /^[a-zA-Z0-9._-]{1,100}$/.test(type) ? ` "${type}"` : ' (not an identifier)';
      throw new EnvelopeError('unknown-type', `unknown event type${shown}`, {
        context: shown.startsWith(' "') ? { type } : {},
      });
    }
    if (!check(event)) {
      throw new EnvelopeError(
        'schema',
        `${type} event breaks its schema: ${describe(check.errors)}`,
        {
          context: { type, id: event['id'] },
        },
      );
    }
    const data = event['data'] as Record<string, unknown>;
    // Validated with null allowed; handed on as absent, so every check sees one shape for "no value".
    for (const field of NULL_MEANS_ABSENT[type] ?? []) if (data[field] === null) delete data[field];
    if (type === 'inventory.snapshot' && (data['chunk'] as number) >= (data['chunks'] as number)) {
      throw new EnvelopeError(
        'schema',
        `${type} event breaks its schema: data.chunk must be < data.chunks`,
      );
    }
    deepFreeze(event);
    return event as E;
  }

  function parse(record: EnvelopeInput): E {
    const known = lastDecoded;
    if (
      known !== undefined &&
      known.record === record &&
      known.value === record.value &&
      known.headers === record.headers &&
      known.limits.maxBytes === limits.maxBytes &&
      known.limits.maxDepth === limits.maxDepth &&
      validators.get((known.event as { type: string }).type) === known.check
    ) {
      return known.event as E;
    }
    const event = parseRecord(record);
    const check = validators.get((event as { type: string }).type)!;
    lastDecoded = {
      record,
      value: record.value,
      headers: record.headers,
      limits,
      check,
      event,
    };
    return event;
  }

  function parseRecord(record: EnvelopeInput): E {
    const headers = record.headers ?? {};
    const binary = headers[`${CE_PREFIX}specversion`] !== undefined;
    const raw = record.value;
    if (raw === null || raw === undefined) {
      throw new EnvelopeError(
        'invalid-json',
        'record has no value (tombstone) where an event was expected',
      );
    }
    const size = typeof raw === 'string' ? Buffer.byteLength(raw) : raw.length;
    if (size > limits.maxBytes) {
      throw new EnvelopeError(
        'too-large',
        `record is ${size} bytes, over the ${limits.maxBytes}-byte limit`,
        { context: { size } },
      );
    }
    const text = typeof raw === 'string' ? raw : raw.toString('utf8');
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (cause) {
      throw new EnvelopeError(
        'invalid-json',
        // V8's message quotes the text around the error; only the position is kept.
        `record is not valid JSON${jsonErrorPosition(cause)}`,
        {
          cause,
        },
      );
    }
    inspect(parsed, limits.maxDepth);
    if (!binary) return validate(parsed);
    const event: Record<string, unknown> = { data: parsed };
    for (const [name, value] of Object.entries(headers)) {
      if (name.startsWith(CE_PREFIX) && value !== undefined)
        event[name.slice(CE_PREFIX.length)] = value;
    }
    return validate(event);
  }

  return { parse, validate };
}

/**
 * Walks the parsed value once, enforcing the nesting limit and rejecting prototype-pollution keys
 * (`__proto__`, or `constructor` holding `prototype`, the rule of secure-json-parse). Done by hand
 * because the depth walk is needed anyway and one pass is cheaper than a second library scan.
 */
function inspect(root: unknown, maxDepth: number): void {
  const stack: Array<[unknown, number]> = [[root, 1]];
  while (stack.length > 0) {
    const [node, depth] = stack.pop()!;
    if (typeof node !== 'object' || node === null) continue;
    if (depth > maxDepth) {
      throw new EnvelopeError('too-deep', `record nests deeper than ${maxDepth} levels`);
    }
    if (Array.isArray(node)) {
      for (const item of node)
        if (typeof item === 'object' && item !== null) stack.push([item, depth + 1]);
      continue;
    }
    for (const key of Object.keys(node)) {
      const child = (node as Record<string, unknown>)[key];
      if (
        key === '__proto__' ||
        (key === 'constructor' &&
          typeof child === 'object' &&
          child !== null &&
          'prototype' in child)
      ) {
        throw new EnvelopeError('forbidden-key', `record contains the forbidden key "${key}"`);
      }
      if (typeof child === 'object' && child !== null) stack.push([child, depth + 1]);
    }
  }
}

/**
 * Freezes a validated event and everything in it: events are shared by every service an in-process host hands the
 * record to, so a handler that tried to change one would change it for the others (it throws instead, in strict
 * mode, and the record goes to the DLQ in every host alike).
 */
function deepFreeze(root: object): void {
  const stack: object[] = [root];
  while (stack.length > 0) {
    const node = stack.pop()!;
    Object.freeze(node);
    for (const key in node) {
      const child = (node as Record<string, unknown>)[key];
      // A typed array (bytes from a Schema Registry payload) cannot be frozen; it is left as it is.
      if (
        typeof child === 'object' &&
        child !== null &&
        !Object.isFrozen(child) &&
        !ArrayBuffer.isView(child)
      )
        stack.push(child);
    }
  }
}

function jsonErrorPosition(cause: unknown): string {
  const m = /at position (\d+)/.exec((cause as Error)?.message ?? '');
  return m ? ` (at position ${m[1]})` : '';
}

function describe(errors: ErrorObject[] | null | undefined): string {
  if (!errors || errors.length === 0) return 'invalid';
  const seen = new Set<string>();
  for (const e of errors) {
    if (e.keyword === 'if') continue;
    const path = e.instancePath.replace(/^\//, '').replaceAll('/', '.') || 'event';
    let text: string;
    if (e.keyword === 'required')
      text = `${path === 'event' ? '' : `${path}.`}${String(e.params['missingProperty'])} is required`;
    else if (e.keyword === 'const' || e.keyword === 'enum')
      text = `${path} must be ${JSON.stringify(e.params['allowedValue'] ?? e.params['allowedValues'])}`;
    else text = `${path} ${e.message ?? 'is invalid'}`;
    seen.add(text);
    if (seen.size >= 5) break;
  }
  return [...seen].join('; ');
}

const defaultParser = createEnvelopeParser();

/** Parses one record with the default limits and the input/finding event types. */
export function parseEnvelope(record: EnvelopeInput): InputEvent | FindingEvent {
  return defaultParser.parse(record);
}

/** A CloudEvent of any registered type (for parsers built with extraTypes). */
export type AnyCloudEvent = CloudEvent;
