// Environment variables, validated the way the rest of the house validates: a TypeBox schema checked by Ajv.
// A variable's text is first decoded (a number, a duration in ms, a list of brokers); the schema then checks the
// decoded value with plain JSON Schema keywords (minimum, pattern, format, …), and each keyword's failure has a
// one-line reason written for the person setting the variable.
import { parseDuration } from '@tidemark/core';
import {
  Type,
  type Static,
  type TBoolean,
  type TInteger,
  type TLiteral,
  type TNumber,
  type TObject,
  type TOptional,
  type TSchema,
  type TUnion,
} from '@sinclair/typebox';
import { Ajv, type ErrorObject } from 'ajv';

/** A failed keyword's reason: one for every keyword, or one per keyword; `{value}` stands for the bad value. */
export type Reasons = string | Readonly<Record<string, string>>;

/** One environment variable: how its text becomes a value, and the JSON Schema that value must meet. */
export interface EnvVariable<S extends TSchema = TSchema> {
  /** The decoded value's schema; its `errorMessage` annotation holds the reasons shown. */
  readonly schema: S;
  /** Turns the text into the value the schema checks; throws an Error whose message is the reason when it cannot. */
  readonly decode: (text: string) => unknown;
}

type Shape = Record<string, EnvVariable>;
type Decoded<V extends Shape> = Static<TObject<{ [K in keyof V]: TOptional<V[K]['schema']> }>>;

/** The variables' values (those set), or every problem as `NAME: reason` (with `NAME="value"` when not secret). */
export type EnvParse<V extends Shape> =
  { ok: true; value: Decoded<V> } | { ok: false; problems: string[] };

const identity = (text: string): unknown => text;

/** A string, checked as it is (pattern, minLength, format). */
export function text<S extends TSchema>(schema: S): EnvVariable<S> {
  return { schema, decode: identity };
}

/** A whole number written in decimal digits, from `min` to `max`. */
export function integer(min: number, max: number): EnvVariable<TInteger> {
  return {
    // Digits only: Number() would also take " 80", "1e3" and "0x50".
    decode: (t) => (/^\d+$/.test(t) ? Number(t) : t),
    schema: Type.Integer({
      minimum: min,
      maximum: max,
      errorMessage: `must be an integer from ${min} to ${max}`,
    }),
  };
}

/** One of a few words: "must be a or b", "must be one of a, b, c". */
export function oneOf<const T extends readonly string[]>(
  values: T,
): EnvVariable<TUnion<Array<TLiteral<T[number]>>>> {
  const listed =
    values.length === 2 ? `${values[0]} or ${values[1]}` : `one of ${values.join(', ')}`;
  return text(
    Type.Union(
      values.map((v: T[number]) => Type.Literal(v)),
      { errorMessage: `must be ${listed}` },
    ),
  );
}

/** true/false (also 1/0, yes/no). */
export function boolean(): EnvVariable<TBoolean> {
  const words: Readonly<Record<string, boolean>> = {
    true: true,
    false: false,
    1: true,
    0: false,
    yes: true,
    no: false,
  };
  return {
    decode: (t) => words[t] ?? t,
    schema: Type.Boolean({ errorMessage: 'must be true or false' }),
  };
}

/** A duration (`30s`, `15m`, `1h30m`) read as milliseconds, with optional bounds named as written (`6s`). */
export function duration(
  bounds: { atLeast?: string; atMost?: string; moreThanZero?: boolean } = {},
): EnvVariable<TNumber> {
  const reasons: Record<string, string> = {};
  const limits: { minimum?: number; maximum?: number; exclusiveMinimum?: number } = {};
  if (bounds.atLeast !== undefined) {
    limits.minimum = parseDuration(bounds.atLeast);
    reasons['minimum'] = `must be at least ${bounds.atLeast}`;
  }
  if (bounds.atMost !== undefined) {
    limits.maximum = parseDuration(bounds.atMost);
    reasons['maximum'] = `must be at most ${bounds.atMost}`;
  }
  if (bounds.moreThanZero) {
    limits.exclusiveMinimum = 0;
    reasons['exclusiveMinimum'] = 'must be more than 0';
  }
  return { decode: parseDuration, schema: Type.Number({ ...limits, errorMessage: reasons }) };
}

/** Formats the schemas may name, beyond Ajv's none: each a predicate on a string. */
export type EnvFormats = Readonly<Record<string, (value: string) => boolean>>;

/**
 * Compiles a set of variables into one validator (callers do it once, at module load): `parse(raw)` decodes and checks every
 * variable set in `raw` and reports every problem, in the order the variables are declared. Values of the
 * variables in `secret` never appear in a problem.
 */
export function envSchema<V extends Shape>(
  variables: V,
  options: { formats?: EnvFormats; secret?: ReadonlySet<string> } = {},
): {
  readonly names: readonly string[];
  parse(raw: Readonly<Record<string, string>>): EnvParse<V>;
} {
  const names = Object.keys(variables);
  const schema = Type.Object(
    Object.fromEntries(names.map((n) => [n, Type.Optional((variables[n] as EnvVariable).schema)])),
  );
  // verbose: errors carry the schema that failed and the value, for the reasons and their {value}.
  const ajv = new Ajv({ allErrors: true, strict: true, verbose: true });
  ajv.addKeyword({ keyword: 'errorMessage', schemaType: ['string', 'object'] });
  for (const [name, check] of Object.entries(options.formats ?? {}))
    ajv.addFormat(name, { type: 'string', validate: check });
  const validate = ajv.compile(schema);
  const secret = options.secret ?? new Set<string>();

  return {
    names,
    parse(raw) {
      const found = new Map<string, string[]>();
      const add = (name: string, why: string): void => {
        const shown = secret.has(name) ? name : `${name}=${JSON.stringify(raw[name])}`;
        const list = found.get(name) ?? [];
        if (!list.includes(`${shown}: ${why}`)) list.push(`${shown}: ${why}`);
        found.set(name, list);
      };
      const decoded: Record<string, unknown> = {};
      for (const name of names) {
        const value = raw[name];
        if (value === undefined) continue;
        try {
          decoded[name] = (variables[name] as EnvVariable).decode(value);
        } catch (error) {
          add(name, error instanceof Error ? error.message : String(error));
        }
      }
      if (!validate(decoded)) {
        // A union's branches fail too (`must be equal to constant`); the union's own reason says it all.
        const errors = validate.errors ?? [];
        const explained = new Set(errors.filter(hasReason).map(variableOf));
        for (const error of errors) {
          const name = variableOf(error);
          if (hasReason(error) || !explained.has(name)) add(name, reason(error, secret.has(name)));
        }
      }
      // In declaration order, whether a problem came from decoding or from the schema.
      const problems = names.flatMap((name) => found.get(name) ?? []);
      return problems.length > 0
        ? { ok: false, problems }
        : { ok: true, value: decoded as Decoded<V> };
    },
  };
}

function variableOf(error: ErrorObject): string {
  return error.instancePath.split('/')[1] ?? '';
}

function reasonsOf(error: ErrorObject): Reasons | undefined {
  return (error.parentSchema as { errorMessage?: Reasons } | undefined)?.errorMessage;
}

function hasReason(error: ErrorObject): boolean {
  const reasons = reasonsOf(error);
  return typeof reasons === 'string' || reasons?.[error.keyword] !== undefined;
}

/**
 * The reason of a failed keyword from the `errorMessage` of the schema it failed in, else Ajv's words; `{value}`
 * becomes the bad value, except in a secret's reason.
 */
function reason(error: ErrorObject, secret: boolean): string {
  const reasons = reasonsOf(error);
  const message =
    typeof reasons === 'string'
      ? reasons
      : (reasons?.[error.keyword] ?? error.message ?? 'invalid');
  return message.replace('{value}', secret ? 'the value' : JSON.stringify(error.data));
}
