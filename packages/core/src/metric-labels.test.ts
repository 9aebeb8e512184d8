import { describe, expect, it } from 'vitest';
import { EMPTY_LABEL_VOCABULARY, MetricLabelBounds } from './metric-labels.js';
import type { LabelVocabulary } from './metric-labels.js';

const vocabulary: LabelVocabulary = {
  systems: ['wiki', 'crm'],
  connectors: (system) => (system === 'wiki' ? ['wiki-prod'] : []),
  contentClasses: (system) => (system === 'wiki' ? ['policy'] : ['note']),
};

describe('MetricLabelBounds', () => {
  const bounds = new MetricLabelBounds(vocabulary);

  it.each<[string, [string, string?, string?], Record<string, string>]>([
    [
      'everything named',
      ['wiki', 'wiki-prod', 'policy'],
      { system: 'wiki', connector: 'wiki-prod', content_class: 'policy' },
    ],
    [
      'absent connector and class',
      ['wiki'],
      { system: 'wiki', connector: 'unknown', content_class: 'unknown' },
    ],
    [
      'connector and class of another system',
      ['crm', 'wiki-prod', 'policy'],
      { system: 'crm', connector: 'other', content_class: 'other' },
    ],
    [
      'unnamed system takes its values with it',
      ['made-up', 'wiki-prod', 'policy'],
      { system: 'other', connector: 'other', content_class: 'other' },
    ],
    [
      'unnamed system, absent fields',
      ['made-up'],
      { system: 'other', connector: 'unknown', content_class: 'unknown' },
    ],
    [
      'prototype names are plain strings',
      ['__proto__', 'constructor', 'toString'],
      { system: 'other', connector: 'other', content_class: 'other' },
    ],
  ])('%s', (_name, [system, connector, contentClass], expected) => {
    expect(bounds.source(system, connector, contentClass)).toEqual(expected);
  });

  it('keeps 10,000 distinct event values to the series the vocabulary allows', () => {
    const series = new Set<string>();
    for (let i = 0; i < 10_000; i++) {
      const labels = bounds.source(`system-${i}`, `connector-${i}`, `class-${i}`);
      series.add(JSON.stringify(labels));
      series.add(JSON.stringify(bounds.source('wiki', `connector-${i}`, `class-${i}`)));
    }
    expect(series.size).toBe(2);
  });

  it('with the empty vocabulary, every system is other', () => {
    expect(new MetricLabelBounds(EMPTY_LABEL_VOCABULARY).source('wiki', 'wiki-prod')).toEqual({
      system: 'other',
      connector: 'other',
      content_class: 'unknown',
    });
  });
});
