import { Type, type Static, type TSchema } from '@sinclair/typebox';

// One definition of the contract format: TypeBox gives the TypeScript types, the JSON Schema the loader
// validates with (Ajv), and the JSON Schema file editors use (contracts/schema/contract.schema.json, written by
// `npm run contracts:schema` from renderContractJsonSchema() and kept current by a test).

/** The only apiVersion this package reads. */
export const API_VERSION = 'tidemark/v1';

/** Document kinds a contract file may hold. */
export const CONTRACT_KINDS = ['SourceContract', 'Owners'] as const;

/** Prometheus/Alertmanager duration syntax, the same grammar as core's parseDuration. */
export const DURATION_PATTERN =
  '^(0|([0-9]+y)?([0-9]+w)?([0-9]+d)?([0-9]+h)?([0-9]+m)?([0-9]+s)?([0-9]+ms)?)$';
/** Names of content classes, rules, features, teams, systems and connectors. */
export const NAME_PATTERN = '^[a-z0-9]([a-z0-9._-]*[a-z0-9])?$';
/** A dotted path into an event's `data`, e.g. `classification` or `attributes.region`. */
export const FIELD_PATH_PATTERN = '^[A-Za-z_][A-Za-z0-9_]*(\\.[A-Za-z_][A-Za-z0-9_]*)*$';
/** Prometheus label names, so contract labels pass through to Alertmanager unchanged. */
export const LABEL_NAME_PATTERN = '^[a-zA-Z_][a-zA-Z0-9_]*$';

const StringEnum = <const T extends readonly string[]>(
  values: T,
  options: { description?: string } = {},
) => Type.Unsafe<T[number]>({ type: 'string', enum: [...values], ...options });

// Maps keyed by names: unknown-shaped keys are errors, not silently accepted.
const KeyedMap = <T extends TSchema>(
  keyPattern: string,
  value: T,
  options: { description?: string } = {},
) =>
  Type.Record(Type.String({ pattern: keyPattern }), value, {
    additionalProperties: false,
    ...options,
  });

const Duration = Type.String({
  pattern: DURATION_PATTERN,
  description: 'Prometheus-style duration: 30s, 15m, 4h, 7d, 1h30m.',
});
const Name = Type.String({
  pattern: NAME_PATTERN,
  description: 'Lowercase letters, digits, ".", "_" or "-".',
});
const FieldPath = Type.String({
  pattern: FIELD_PATH_PATTERN,
  description: 'Path into the event data, e.g. classification or attributes.region.',
});
const Text = Type.String({ minLength: 1 });
const Share = Type.Number({ minimum: 0, maximum: 1 });

/** Finding severities, lowest first. */
export const SEVERITIES = ['info', 'warning', 'high', 'critical'] as const;
const Severity = StringEnum(SEVERITIES, { description: 'Severity of the findings this produces.' });
/** `enforce` (default) or `shadow`: evaluated, findings carry `shadow: true`, nothing alerts or tickets on them. */
const Mode = StringEnum(['enforce', 'shadow'] as const, {
  description: 'shadow: evaluated, findings carry shadow: true, nobody is alerted or ticketed.',
});
const ClassList = Type.Array(Name, {
  minItems: 1,
  uniqueItems: true,
  description: 'Content classes (keys of `classes`) this entry applies to; all when absent.',
});
const Labels = KeyedMap(LABEL_NAME_PATTERN, Type.String(), {
  description: 'Labels added to findings, for routing.',
});

const Escalation = Type.Object(
  {
    receiver: Type.String({ minLength: 1, description: 'Receiver in contracts/routing.yaml.' }),
    after: Type.Optional(Duration),
  },
  { additionalProperties: false },
);

const Owner = Type.Object(
  {
    steward: Type.Optional(
      Type.String({ minLength: 1, description: 'Person or list that owns the content.' }),
    ),
    team: Type.Optional(
      Type.String({ pattern: NAME_PATTERN, description: 'Team from owners.yaml.' }),
    ),
    platformOwner: Type.Optional(
      Type.String({
        pattern: NAME_PATTERN,
        description: 'Team from owners.yaml that runs connectors and index.',
      }),
    ),
    escalation: Type.Optional(Escalation),
  },
  { additionalProperties: false },
);

const AllowedValue = Type.Unsafe<string | number | boolean>({
  type: ['string', 'number', 'boolean'],
});
const Allowed = Type.Object(
  {
    values: Type.Optional(Type.Array(AllowedValue, { minItems: 1, uniqueItems: true })),
    min: Type.Optional(Type.Number()),
    max: Type.Optional(Type.Number()),
    pattern: Type.Optional(
      Type.String({ description: 'RE2 regular expression (unanchored, like CEL matches()).' }),
    ),
    severity: Type.Optional(Severity),
    mode: Type.Optional(Mode),
  },
  { additionalProperties: false, minProperties: 1 },
);

const ruleProperties = {
  name: Name,
  description: Type.Optional(Type.String()),
  expression: Type.String({
    minLength: 1,
    description:
      'CEL over `data` and the envelope (id, source, type, time, subject); must return bool.',
  }),
  severity: Type.Optional(Severity),
  message: Text,
  mode: Type.Optional(Mode),
};
const ClassRule = Type.Object(ruleProperties, { additionalProperties: false });
const SystemRule = Type.Object(
  { ...ruleProperties, classes: Type.Optional(ClassList) },
  { additionalProperties: false },
);

const referenceProperties = {
  field: FieldPath,
  gracePeriod: Duration,
  severity: Type.Optional(Severity),
  mode: Type.Optional(Mode),
};
const ClassReference = Type.Object(referenceProperties, { additionalProperties: false });
const SystemReference = Type.Object(
  { ...referenceProperties, classes: Type.Optional(ClassList) },
  { additionalProperties: false },
);

const nullRateProperties = {
  field: FieldPath,
  window: Duration,
  threshold: Share,
  minCount: Type.Optional(Type.Integer({ minimum: 1 })),
  severity: Type.Optional(Severity),
  mode: Type.Optional(Mode),
};
const ClassNullRate = Type.Object(nullRateProperties, { additionalProperties: false });
const SystemNullRate = Type.Object(
  { ...nullRateProperties, classes: Type.Optional(ClassList) },
  { additionalProperties: false },
);

const Slas = Type.Object(
  {
    reviewInterval: Type.Optional(Duration),
    syncLag: Type.Optional(Duration),
    deleteSla: Type.Optional(Duration),
    aclSla: Type.Optional(Duration),
  },
  { additionalProperties: false },
);

/** Drift feature kinds. */
export const DRIFT_KINDS = ['numeric', 'categorical', 'volume'] as const;
const Baseline = Type.Object(
  {
    mode: StringEnum(['rolling', 'pinned'] as const),
    windows: Type.Optional(
      Type.Integer({ minimum: 1, description: 'rolling: how many past windows.' }),
    ),
    reference: Type.Optional(
      Type.String({ description: 'pinned: RFC 3339 start of the reference window.' }),
    ),
  },
  { additionalProperties: false },
);
const Thresholds = Type.Object(
  {
    psi: Type.Optional(Type.Number({ exclusiveMinimum: 0 })),
    ksPValue: Type.Optional(Share),
    chiSquarePValue: Type.Optional(Share),
    jsDistance: Type.Optional(Share),
    volumeScore: Type.Optional(Type.Number({ exclusiveMinimum: 0 })),
  },
  { additionalProperties: false },
);
const driftProperties = {
  name: Name,
  kind: StringEnum(DRIFT_KINDS),
  field: Type.Optional(FieldPath),
  by: Type.Optional(
    StringEnum(['system', 'connector'] as const, {
      description: 'volume: count per system or per connector.',
    }),
  ),
  window: Type.Optional(Duration),
  baseline: Type.Optional(Baseline),
  minSamples: Type.Optional(Type.Integer({ minimum: 1 })),
  bins: Type.Optional(Type.Integer({ minimum: 2, maximum: 1000 })),
  topK: Type.Optional(Type.Integer({ minimum: 1, maximum: 10000 })),
  thresholds: Type.Optional(Thresholds),
  severity: Type.Optional(Severity),
  mode: Type.Optional(Mode),
};
const ClassDrift = Type.Object(driftProperties, { additionalProperties: false });
const SystemDrift = Type.Object(
  { ...driftProperties, classes: Type.Optional(ClassList) },
  { additionalProperties: false },
);

const classProperties = {
  description: Type.Optional(Type.String()),
  owner: Type.Optional(Owner),
  labels: Type.Optional(Labels),
  mode: Type.Optional(Mode),
  required: Type.Optional(Type.Array(FieldPath, { uniqueItems: true })),
  allowed: Type.Optional(KeyedMap(FIELD_PATH_PATTERN, Allowed)),
};

/** Settings of one content class; each overrides the system-level value of the same name. */
export const ContentClassSchema = Type.Object(
  {
    ...classProperties,
    rules: Type.Optional(Type.Array(ClassRule)),
    references: Type.Optional(Type.Array(ClassReference)),
    nullRates: Type.Optional(Type.Array(ClassNullRate)),
    slas: Type.Optional(Slas),
    drift: Type.Optional(Type.Array(ClassDrift)),
  },
  { additionalProperties: false },
);

const ConnectorInstance = Type.Object(
  {
    heartbeat: Type.Optional(Duration),
    failingRuns: Type.Optional(Type.Integer({ minimum: 1 })),
    labels: Type.Optional(Labels),
  },
  { additionalProperties: false },
);
const Connectors = Type.Object(
  {
    heartbeat: Type.Optional(Duration),
    failingRuns: Type.Optional(Type.Integer({ minimum: 1 })),
    instances: Type.Optional(KeyedMap(NAME_PATTERN, ConnectorInstance)),
  },
  { additionalProperties: false },
);
const Parity = Type.Object(
  {
    massRemoval: Type.Optional(
      Type.Object(
        {
          share: Type.Number({ exclusiveMinimum: 0, maximum: 1 }),
          window: Duration,
          minDocuments: Type.Optional(Type.Integer({ minimum: 1 })),
        },
        { additionalProperties: false },
      ),
    ),
    inventoryTolerance: Type.Optional(Duration),
    snapshotExpiry: Type.Optional(Duration),
    maxDocumentFindings: Type.Optional(Type.Integer({ minimum: 0 })),
  },
  { additionalProperties: false },
);

/** One source system's contract (`kind: SourceContract`): system-level defaults plus per-class overrides. */
export const SourceContractSchema = Type.Object(
  {
    apiVersion: Type.Literal(API_VERSION),
    kind: Type.Literal('SourceContract'),
    system: Name,
    version: Type.Unsafe<string | number>({
      type: ['string', 'integer'],
      description: 'Contract version, carried by every finding it produces.',
    }),
    ...classProperties,
    rules: Type.Optional(Type.Array(SystemRule)),
    references: Type.Optional(Type.Array(SystemReference)),
    nullRates: Type.Optional(Type.Array(SystemNullRate)),
    slas: Type.Optional(Slas),
    drift: Type.Optional(Type.Array(SystemDrift)),
    connectors: Type.Optional(Connectors),
    parity: Type.Optional(Parity),
    classes: Type.Optional(KeyedMap(NAME_PATTERN, ContentClassSchema)),
  },
  { additionalProperties: false },
);

const Team = Type.Object(
  {
    description: Type.Optional(Type.String()),
    contact: Type.Optional(Type.String({ minLength: 1 })),
    ticketQueue: Type.Optional(Type.String({ minLength: 1 })),
    escalation: Type.Optional(Escalation),
    members: Type.Optional(Type.Array(Type.String({ minLength: 1 }), { uniqueItems: true })),
  },
  { additionalProperties: false },
);

/** Shared owners file (`kind: Owners`): the teams contracts name as `team` and `platformOwner`. */
export const OwnersSchema = Type.Object(
  {
    apiVersion: Type.Literal(API_VERSION),
    kind: Type.Literal('Owners'),
    teams: KeyedMap(NAME_PATTERN, Team),
  },
  { additionalProperties: false },
);

/** A source system's contract as written. */
export type SourceContractDocument = Static<typeof SourceContractSchema>;
/** One content class's settings as written. */
export type ContentClassDocument = Static<typeof ContentClassSchema>;
/** The owners file as written. */
export type OwnersDocument = Static<typeof OwnersSchema>;
/** A rule as written at system level (may be limited to some classes). */
export type RuleDocument = Static<typeof SystemRule>;
/** A drift feature as written at system level. */
export type DriftFeatureDocument = Static<typeof SystemDrift>;
/** Finding severity. */
export type Severity = (typeof SEVERITIES)[number];
/** Contract mode. */
export type ContractMode = 'enforce' | 'shadow';

/** Schemas by `kind`, used by the loader. */
export const KIND_SCHEMAS: Readonly<Record<(typeof CONTRACT_KINDS)[number], TSchema>> = {
  SourceContract: SourceContractSchema,
  Owners: OwnersSchema,
};

/** The JSON Schema of a contract file (any kind), as shipped for editors in contracts/schema/contract.schema.json. */
export function contractJsonSchema(): Record<string, unknown> {
  return {
    $schema: 'http://json-schema.org/draft-07/schema#',
    $id: 'https://tidemark.dev/schema/contract.schema.json',
    title: 'Tidemark contract file',
    description:
      'Data contract as code for Tidemark (apiVersion tidemark/v1). Generated from packages/contracts/src/schema.ts.',
    type: 'object',
    required: ['apiVersion', 'kind'],
    properties: {
      apiVersion: { const: API_VERSION },
      kind: { type: 'string', enum: [...CONTRACT_KINDS] },
    },
    allOf: CONTRACT_KINDS.map((kind) => ({
      if: { properties: { kind: { const: kind } }, required: ['kind'] },
      then: { $ref: `#/definitions/${kind}` },
    })),
    definitions: Object.fromEntries(CONTRACT_KINDS.map((kind) => [kind, KIND_SCHEMAS[kind]])),
  };
}

/** The text of contracts/schema/contract.schema.json (stable formatting, trailing newline). */
export function renderContractJsonSchema(): string {
  return `${JSON.stringify(contractJsonSchema(), null, 2)}\n`;
}
