import { Type, type Static, type TSchema } from '@sinclair/typebox';

// One definition per event (spec/events.md): TypeBox gives both the TypeScript type and the JSON Schema
// that Ajv validates at run time and that `tidemark contracts publish` registers.

/** CloudEvents `type` values Tidemark reads or writes. */
export const EVENT_TYPES = {
  contentUpserted: 'content.upserted',
  contentDeleted: 'content.deleted',
  indexUpserted: 'index.upserted',
  indexRemoved: 'index.removed',
  connectorRun: 'connector.run',
  inventorySnapshot: 'inventory.snapshot',
  finding: 'tidemark.finding',
  alert: 'tidemark.alert',
  ticket: 'tidemark.ticket',
} as const;

const Id = Type.String({ minLength: 1, maxLength: 1024 });
const Time = Type.String({ format: 'date-time' });
const Revision = Type.Integer({ minimum: 0 });
const Nullable = <T extends TSchema>(schema: T) => Type.Union([schema, Type.Null()]);
// Optional means nullable: a producer that writes `null` for a field it has no value for sends the same fact as
// one that leaves the field out. Whether a missing value is acceptable is the contracts' call (`required`,
// `allowed`, null rates), never a schema break that would dead-letter the whole event.
const Optional = <T extends TSchema>(schema: T) => Type.Optional(Nullable(schema));

/**
 * Optional `data` fields whose `null` the envelope parser reads as absent (it deletes them after validation), per
 * event type: checks then see one shape for "no value". `owner`, `effectiveDate`, `reviewedAt` and `supersededBy`
 * are not listed: they were nullable from the start and keep `null`, which contracts' CEL rules may tell apart.
 */
export const NULL_MEANS_ABSENT: Readonly<Record<string, readonly string[]>> = {
  'content.upserted': [
    'deprecated',
    'classification',
    'language',
    'sizeBytes',
    'aclHash',
    'attributes',
  ],
  'content.deleted': ['contentClass', 'classification', 'aclHash', 'attributes'],
  'index.upserted': ['aclHash'],
  'index.removed': ['aclHash'],
  'connector.run': ['finishedAt', 'itemsSeen', 'itemsFailed', 'error'],
};

/** `T` with `null` taken out of the optional fields `K` (what the envelope parser hands on; see NULL_MEANS_ABSENT). */
type NullAsAbsent<T, K extends keyof T> = Omit<T, K> & { [P in K]?: Exclude<T[P], null> };

/** `data` of `content.upserted`. */
export const ContentUpsertedDataSchema = Type.Object({
  system: Id,
  docId: Id,
  revision: Revision,
  contentClass: Type.String({ minLength: 1 }),
  title: Type.String(),
  owner: Optional(Type.String()),
  effectiveDate: Optional(Type.String({ format: 'date' })),
  reviewedAt: Optional(Time),
  deprecated: Optional(Type.Boolean()),
  supersededBy: Optional(Type.String()),
  classification: Optional(Type.String()),
  language: Optional(Type.String()),
  sizeBytes: Optional(Type.Integer({ minimum: 0 })),
  aclHash: Optional(Type.String()),
  attributes: Optional(Type.Record(Type.String(), Type.Unknown())),
});

/** `data` of `content.deleted`: identity and revision are required; the rest may be carried along. */
export const ContentDeletedDataSchema = Type.Object({
  system: Id,
  docId: Id,
  revision: Revision,
  contentClass: Optional(Type.String()),
  classification: Optional(Type.String()),
  aclHash: Optional(Type.String()),
  attributes: Optional(Type.Record(Type.String(), Type.Unknown())),
});

/** `data` of `index.upserted` and `index.removed`. */
export const IndexDataSchema = Type.Object({
  connector: Id,
  system: Id,
  docId: Id,
  revision: Revision,
  sourceTime: Time,
  aclHash: Optional(Type.String()),
});

/** `data` of `connector.run`; `finishedAt` is required unless the status is `started`. */
export const ConnectorRunDataSchema = Type.Object(
  {
    connector: Id,
    system: Id,
    runId: Id,
    status: Type.Union([
      Type.Literal('started'),
      Type.Literal('succeeded'),
      Type.Literal('failed'),
    ]),
    startedAt: Time,
    finishedAt: Optional(Time),
    itemsSeen: Optional(Type.Integer({ minimum: 0 })),
    itemsFailed: Optional(Type.Integer({ minimum: 0 })),
    error: Optional(Type.String()),
  },
  {
    // A finished run must say when it finished: null is as good as missing there.
    if: { properties: { status: { const: 'started' } } },
    then: {},
    else: { required: ['finishedAt'], properties: { finishedAt: { type: 'string' } } },
  },
);

/** `data` of `inventory.snapshot`: one chunk of one side's id list. */
export const InventorySnapshotDataSchema = Type.Object({
  system: Id,
  side: Type.Union([Type.Literal('source'), Type.Literal('index')]),
  snapshotId: Id,
  chunk: Type.Integer({ minimum: 0 }),
  chunks: Type.Integer({ minimum: 1 }),
  docIds: Type.Array(Type.String(), { maxItems: 10_000 }),
});

const Severity = Type.Union([
  Type.Literal('info'),
  Type.Literal('warning'),
  Type.Literal('high'),
  Type.Literal('critical'),
]);
const StringMap = Type.Record(Type.String(), Type.String());

/** `data` of `tidemark.finding` (spec/outputs.md), read back by the alert router. */
export const FindingDataSchema = Type.Object({
  check: Type.String({ pattern: '^[a-z][a-z0-9-]*\\.[a-z][a-z0-9-]*$' }),
  status: Type.Union([Type.Literal('firing'), Type.Literal('resolved')]),
  severity: Severity,
  fingerprint: Type.String({ minLength: 1 }),
  subject: Type.Intersect([Type.Object({ system: Type.String() }), StringMap]),
  owner: Type.Object({
    steward: Type.Optional(Type.String()),
    team: Type.Optional(Type.String()),
    platformOwner: Type.Optional(Type.String()),
  }),
  summary: Type.String(),
  evidence: Type.Record(Type.String(), Type.Unknown()),
  observedAt: Time,
  contract: Type.Optional(Type.Object({ file: Type.String(), version: Type.String() })),
  traceparent: Type.Optional(Type.String()),
  shadow: Type.Optional(Type.Boolean()),
  restricted: Type.Optional(Type.Boolean()),
  labels: Type.Optional(StringMap),
  dueBy: Type.Optional(Time),
  expiresAt: Type.Optional(Time),
});

/** CloudEvents 1.0 context attributes common to every event (extra attributes are allowed). */
export const CloudEventAttributesSchema = Type.Object({
  specversion: Type.Literal('1.0'),
  id: Type.String({ minLength: 1, maxLength: 256 }),
  source: Type.String({ minLength: 1 }),
  type: Type.String({ minLength: 1 }),
  time: Time,
  subject: Type.Optional(Type.String()),
  datacontenttype: Type.Optional(Type.String()),
});

const event = <K extends string, D extends TSchema>(type: K, data: D) =>
  Type.Object({ ...CloudEventAttributesSchema.properties, type: Type.Literal(type), data });

export const ContentUpsertedEventSchema = event(
  EVENT_TYPES.contentUpserted,
  ContentUpsertedDataSchema,
);
export const ContentDeletedEventSchema = event(
  EVENT_TYPES.contentDeleted,
  ContentDeletedDataSchema,
);
export const IndexUpsertedEventSchema = event(EVENT_TYPES.indexUpserted, IndexDataSchema);
export const IndexRemovedEventSchema = event(EVENT_TYPES.indexRemoved, IndexDataSchema);
export const ConnectorRunEventSchema = event(EVENT_TYPES.connectorRun, ConnectorRunDataSchema);
export const InventorySnapshotEventSchema = event(
  EVENT_TYPES.inventorySnapshot,
  InventorySnapshotDataSchema,
);
export const FindingEventSchema = event(EVENT_TYPES.finding, FindingDataSchema);

/**
 * An alert as `dq.alerts.v1` carries it (the `Alert` of outputs.ts). Not in `eventSchemas`: only the Alertmanager
 * bridge reads alerts back, through `extraTypes`.
 */
export const AlertDataSchema = Type.Object({
  status: Type.Union([Type.Literal('firing'), Type.Literal('resolved')]),
  labels: StringMap,
  annotations: Type.Object({
    summary: Type.String(),
    description: Type.Optional(Type.String()),
    runbook_url: Type.Optional(Type.String()),
  }),
  startsAt: Type.String({ minLength: 1 }),
  endsAt: Type.String({ minLength: 1 }),
  fingerprint: Type.String({ minLength: 1 }),
  receiver: Type.String({ minLength: 1 }),
  groupKey: Type.String(),
  findings: Type.Object({ count: Type.Integer({ minimum: 0 }), sample: Type.Array(Type.String()) }),
  generatorURL: Type.Optional(Type.String()),
  traceparent: Type.Optional(Type.String()),
});
export const AlertEventSchema = event(EVENT_TYPES.alert, AlertDataSchema);

/** JSON Schemas of every event Tidemark consumes, by CloudEvents `type`. */
export const eventSchemas: Readonly<Record<string, TSchema>> = {
  [EVENT_TYPES.contentUpserted]: ContentUpsertedEventSchema,
  [EVENT_TYPES.contentDeleted]: ContentDeletedEventSchema,
  [EVENT_TYPES.indexUpserted]: IndexUpsertedEventSchema,
  [EVENT_TYPES.indexRemoved]: IndexRemovedEventSchema,
  [EVENT_TYPES.connectorRun]: ConnectorRunEventSchema,
  [EVENT_TYPES.inventorySnapshot]: InventorySnapshotEventSchema,
  [EVENT_TYPES.finding]: FindingEventSchema,
};

export type CloudEventAttributes = Static<typeof CloudEventAttributesSchema>;
export type ContentUpsertedData = NullAsAbsent<
  Static<typeof ContentUpsertedDataSchema>,
  'deprecated' | 'classification' | 'language' | 'sizeBytes' | 'aclHash' | 'attributes'
>;
export type ContentDeletedData = NullAsAbsent<
  Static<typeof ContentDeletedDataSchema>,
  'contentClass' | 'classification' | 'aclHash' | 'attributes'
>;
export type IndexData = NullAsAbsent<Static<typeof IndexDataSchema>, 'aclHash'>;
export type ConnectorRunData = NullAsAbsent<
  Static<typeof ConnectorRunDataSchema>,
  'finishedAt' | 'itemsSeen' | 'itemsFailed' | 'error'
>;
export type InventorySnapshotData = Static<typeof InventorySnapshotDataSchema>;
/** An event of schema `S` whose `data` is `D` as the envelope parser hands it on. */
type Decoded<S extends TSchema, D> = Omit<Static<S>, 'data'> & { data: D };
export type ContentUpsertedEvent = Decoded<typeof ContentUpsertedEventSchema, ContentUpsertedData>;
export type ContentDeletedEvent = Decoded<typeof ContentDeletedEventSchema, ContentDeletedData>;
export type IndexUpsertedEvent = Decoded<typeof IndexUpsertedEventSchema, IndexData>;
export type IndexRemovedEvent = Decoded<typeof IndexRemovedEventSchema, IndexData>;
export type ConnectorRunEvent = Decoded<typeof ConnectorRunEventSchema, ConnectorRunData>;
export type InventorySnapshotEvent = Static<typeof InventorySnapshotEventSchema>;
export type FindingEvent = Static<typeof FindingEventSchema>;
/** Events on `content.changes.v1`. */
export type ContentEvent = ContentUpsertedEvent | ContentDeletedEvent;
/** Events on `sync.events.v1`. */
export type SyncEvent = IndexUpsertedEvent | IndexRemovedEvent | ConnectorRunEvent;
/** Every input event of spec/events.md. */
export type InputEvent = ContentEvent | SyncEvent | InventorySnapshotEvent;
/** Any CloudEvent with a JSON object as data. */
export type CloudEvent<D = Record<string, unknown>> = CloudEventAttributes & {
  data: D;
  [attribute: string]: unknown;
};
