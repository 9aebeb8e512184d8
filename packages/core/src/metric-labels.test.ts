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

  // Each row: the event's system, connector and content class, then the labels it gets, in that order.
  type Fields = [string, string?, string?];
  it.each<[string, Fields, [string, string, string]]>([
    ['everything named', ['wiki', 'wiki-prod', 'policy'], ['wiki', 'wiki-prod', 'policy']],
    ['absent connector and class', ['wiki'], ['wiki', 'unknown', 'unknown']],
    [
      'connector and class of another system',
      ['crm', 'wiki-prod', 'policy'],
      ['crm', 'other', 'other'],
    ],
    [
      'unnamed system takes its values with it',
      ['made-up', 'wiki-prod', 'policy'],
      ['other', 'other', 'other'],
    ],
    ['unnamed system, absent fields', ['made-up'], ['other', 'unknown', 'unknown']],
    [
      'prototype names are plain strings',
      ['__proto__', 'constructor', 'toString'],
      ['other', 'other', 'other'],
    ],
  ])('%s', (_name, [system, connector, contentClass], [sys, conn, cls]) => {
    expect(bounds.source(system, connector, contentClass)).toEqual({
      system: sys,
      connector: conn,
      content_class: cls,
    });
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
