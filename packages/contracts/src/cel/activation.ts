// The event a rule is evaluated over. A plain CloudEvent object works as is; prepareActivation converts it once for
// CEL so that all the rules of one event share the conversion.
import { celList, celMap, type CelInput } from '@bufbuild/cel';
import { RULE_VARIABLES } from './env.js';

/** The variables a rule is evaluated over: a CloudEvent object (`data` plus attributes) fits as is. */
export type RuleActivation = Readonly<Record<string, unknown>>;

// @bufbuild/cel converts a plain object into a CEL map (a new Map of its entries) on every access, which made
// that conversion most of a rule's cost. prepareActivation converts an event's variables once; the checker
// passes the prepared activation to every rule of the event. A plain activation still works (converted per call).
const VARIABLE_NAMES = Object.keys(RULE_VARIABLES);
const PREPARED: unique symbol = Symbol('tidemark.preparedActivation');

/** An event converted once for CEL, to evaluate many rules on (see prepareActivation). */
export interface PreparedActivation {
  readonly [PREPARED]: Readonly<Record<string, CelInput>>;
}

/**
 * Converts an event (CloudEvent object) once so that evaluating all its rules does not convert it per rule.
 * With `dataFields` (the union of the rules' CompiledRule.dataFields), only those fields of `data` are converted:
 * the snapshot holds all those rules can see, so only rules whose dataFields it covers may be evaluated on it.
 */
export function prepareActivation(
  activation: RuleActivation,
  dataFields?: readonly string[],
): PreparedActivation {
  const bindings: Record<string, CelInput> = {};
  // Only the declared variables: the analysis has rejected any other identifier.
  for (const name of VARIABLE_NAMES) {
    const value = activation[name];
    if (value === undefined) continue;
    if (name === 'data' && dataFields !== undefined && isPlainObject(value)) {
      const entries = convertEntries(value, dataFields);
      bindings[name] = celMap(entries);
      // Each present field is also bound under its qualified name `data.<field>`. The library resolves a
      // select chain on an identifier as the longest bound qualified name first (CEL's qualified-identifier
      // rule), so `data.owner` then reads its value directly instead of looking up the absent variable
      // `data.owner` in the type registry and then selecting from the map — same value, a fraction of the work.
      // An absent field stays unbound and falls back to the map, which gives the same error as before;
      // has(data.f) always tests the map. Rules whose comprehension variables are named `data` (where the
      // qualified binding would shadow the variable) have no dataFields, so they never get these bindings.
      for (const [field, entry] of entries) bindings[qualifiedDataName(field)] = entry;
    } else bindings[name] = toCelInput(value);
  }
  return new Prepared(bindings);
}

const qualifiedDataNames = new Map<string, string>();
/** `data.<field>`, built once per field name rather than per event. */
function qualifiedDataName(field: string): string {
  let name = qualifiedDataNames.get(field);
  if (name === undefined) {
    name = `data.${field}`;
    // Field names come from contracts, a small set; the bound keeps a pathological caller from growing it.
    if (qualifiedDataNames.size < 4096) qualifiedDataNames.set(field, name);
  }
  return name;
}

// A class rather than Object.freeze of two literals: freezing cost as much as converting `data`, and the
// bindings are reachable only through the module-private symbol, so nothing outside can change the snapshot.
class Prepared implements PreparedActivation {
  readonly [PREPARED]: Readonly<Record<string, CelInput>>;

  constructor(bindings: Readonly<Record<string, CelInput>>) {
    this[PREPARED] = bindings;
  }
}

/** The CEL bindings of an activation: a prepared one's snapshot, or a plain one converted now. */
export function activationBindings(
  activation: RuleActivation | PreparedActivation,
): Readonly<Record<string, CelInput>> {
  const ready = (activation as Partial<PreparedActivation>)[PREPARED];
  return ready ?? prepareActivation(activation as RuleActivation)[PREPARED];
}

function toCelInput(value: unknown): CelInput {
  if (value === null || typeof value !== 'object') return value as CelInput;
  if (Array.isArray(value)) {
    // A loop, not value.map(toCelInput): map passes (value, index, array), and this runs once per field per event.
    const list: CelInput[] = new Array<CelInput>(value.length);
    for (let i = 0; i < value.length; i++) list[i] = toCelInput(value[i]);
    return celList(list);
  }
  if (!isPlainObject(value)) return value as CelInput; // Map, Uint8Array, messages: the library knows them
  // for…in over own keys rather than Object.entries: no [key, value] pair allocated per field.
  const entries = new Map<string, CelInput>();
  for (const key in value) {
    if (!Object.hasOwn(value, key)) continue;
    const entry = value[key];
    if (entry !== undefined) entries.set(key, toCelInput(entry));
  }
  return celMap(entries);
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return false;
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/** The named own fields of an object (undefined ones left out, as toCelInput does), converted. */
function convertEntries(
  object: Record<string, unknown>,
  keys: readonly string[],
): Map<string, CelInput> {
  const entries = new Map<string, CelInput>();
  for (const key of keys) {
    if (!Object.hasOwn(object, key)) continue;
    const entry = object[key];
    if (entry !== undefined) entries.set(key, toCelInput(entry));
  }
  return entries;
}
