// The partial null-rate count one partition sends its decider: the wire shape only, so the state (which keeps
// partials) and the null-rate logic (which builds and merges them) both use it without importing each other.
import { Type, type Static } from '@sinclair/typebox';

/** `data` of a partial count; carries the settings so the decider needs no contract lookup. */
export const NullRatePartialSchema = Type.Object({
  system: Type.String(),
  contentClass: Type.String(),
  field: Type.String(),
  windowStart: Type.Integer(),
  windowMs: Type.Integer({ minimum: 1 }),
  n: Type.Integer({ minimum: 0 }),
  nulls: Type.Integer({ minimum: 0 }),
  threshold: Type.Number(),
  minCount: Type.Integer(),
  severity: Type.String(),
  shadow: Type.Boolean(),
  /** From a system's shadow candidate contract (decided apart from the enforced contract's); absent = false. */
  candidate: Type.Optional(Type.Boolean()),
  contract: Type.Object({ file: Type.String(), version: Type.String() }),
});
/** A partial null-rate count from one partition. */
export type NullRatePartial = Static<typeof NullRatePartialSchema>;
