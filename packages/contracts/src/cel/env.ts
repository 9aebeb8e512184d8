// CEL for contract rules: the environment rules are planned and checked in, and the variables they see.
// compile.ts compiles and evaluates rules, check.ts infers their types, activation.ts converts events for them,
// registry.ts rewrites them for the Schema Registry.
//
// Evaluator: @bufbuild/cel 0.6.1, used directly. Why this one:
// - it is the engine @confluentinc/schemaregistry's CEL executor is built on (that one pins @bufbuild/cel 0.3), so a
//   rule published in a Schema Registry ruleSet means the same thing there as here;
// - used directly we parse and plan each rule once and call the planned program per event, whereas the
//   registry's executor stringifies rule and schema on every evaluation (see DESIGN.md, known traps);
// - its parser and `unparse` let `planPublish` rewrite a rule for the registry's `message` variable;
// - 0.6 passes more of the cel-spec conformance suite than 0.3 (cel.test.ts runs a sample of it here).
import { celEnv, type CelEnv } from '@bufbuild/cel';
import { strings } from '@bufbuild/cel/ext';

// The strings extension is what the Schema Registry's CEL executor registers too.
/** The environment every rule is planned and checked in. */
export const env: CelEnv = celEnv({ funcs: strings });

/** Variables a rule may use: the event's `data` and its CloudEvents attributes. */
export const RULE_VARIABLES: Readonly<Record<string, CelKind>> = {
  data: 'map',
  id: 'string',
  source: 'string',
  type: 'string',
  time: 'string',
  subject: 'string',
  specversion: 'string',
};

/** Coarse CEL types the analysis distinguishes; `dyn` means "known only at run time". */
export type CelKind =
  | 'bool'
  | 'int'
  | 'uint'
  | 'double'
  | 'string'
  | 'bytes'
  | 'null'
  | 'list'
  | 'map'
  | 'timestamp'
  | 'duration'
  | 'type'
  | 'dyn';

/** One reason an expression cannot be used; `offset` is a character offset into the expression when known. */
export interface CelProblem {
  message: string;
  offset: number | undefined;
}

/** The coarse kind of a CEL type name (as the library prints it). */
export function kindOf(typeName: string): CelKind {
  if (typeName.startsWith('list')) return 'list';
  if (typeName.startsWith('map')) return 'map';
  if (typeName.startsWith('type')) return 'type';
  switch (typeName) {
    case 'bool':
    case 'int':
    case 'uint':
    case 'double':
    case 'string':
    case 'bytes':
    case 'dyn':
      return typeName;
    case 'null_type':
      return 'null';
    case 'google.protobuf.Timestamp':
      return 'timestamp';
    case 'google.protobuf.Duration':
      return 'duration';
    default:
      return 'dyn';
  }
}
