// Metric labels whose values come from event data (system, connector, content class) are bounded to the values
// contracts name: anything else is recorded as `other`. Every distinct label value is a new time series for
// as long as the process lives, so a producer sending a new system name per event — by mistake or on
// purpose — would otherwise grow the service's memory and the Prometheus server's without limit.

/** The label value of every event-data value that no contract names. */
export const OTHER_LABEL_VALUE = 'other';

/** The label value of an optional field the event did not carry (e.g. a change without a content class). */
export const UNKNOWN_LABEL_VALUE = 'unknown';

/** The values labels may take: what contracts name (a `ContractSet` of @tidemark/contracts fits as is). */
export interface LabelVocabulary {
  /** Systems with a contract. */
  readonly systems: readonly string[];
  /** Content classes the system's contract defines. */
  contentClasses(system: string): readonly string[];
  /** Connectors the system's contract names. */
  connectors(system: string): readonly string[];
}

/** A vocabulary naming nothing: every value is `other`. */
export const EMPTY_LABEL_VOCABULARY: LabelVocabulary = Object.freeze({
  systems: Object.freeze([]),
  contentClasses: () => [],
  connectors: () => [],
});

/** The source labels of a metric series, bounded. */
export interface SourceLabels {
  system: string;
  connector: string;
  content_class: string;
}

/**
 * Maps label values taken from events onto a bounded set: a value the vocabulary names is kept, an absent one
 * is `unknown`, anything else is `other`. A connector or content class is judged within its system, and an
 * unnamed system makes both `other` too, so the series are at most Σ over named systems of
 * (connectors + 2) × (classes + 2), plus one.
 */
export class MetricLabelBounds {
  readonly #systems: Map<string, { connectors: Set<string>; classes: Set<string> }>;

  constructor(vocabulary: LabelVocabulary) {
    this.#systems = new Map(
      vocabulary.systems.map((system) => [
        system,
        {
          connectors: new Set(vocabulary.connectors(system)),
          classes: new Set(vocabulary.contentClasses(system)),
        },
      ]),
    );
  }

  /** The bounded labels of (system, connector, content class) read from an event. */
  source(system: string, connector?: string, contentClass?: string): SourceLabels {
    const known = this.#systems.get(system);
    if (!known)
      return {
        system: OTHER_LABEL_VALUE,
        connector: connector === undefined ? UNKNOWN_LABEL_VALUE : OTHER_LABEL_VALUE,
        content_class: contentClass === undefined ? UNKNOWN_LABEL_VALUE : OTHER_LABEL_VALUE,
      };
    return {
      system,
      connector: bound(connector, known.connectors),
      content_class: bound(contentClass, known.classes),
    };
  }
}

function bound(value: string | undefined, known: ReadonlySet<string>): string {
  if (value === undefined) return UNKNOWN_LABEL_VALUE;
  return known.has(value) ? value : OTHER_LABEL_VALUE;
}
