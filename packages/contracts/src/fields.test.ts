import { describe, expect, it } from 'vitest';
import { fieldSegments, readField, type FieldValue } from './index.js';

const data = {
  owner: 'ann@example.com',
  nullOwner: null,
  title: '',
  tags: [],
  labels: ['a'],
  attributes: { region: 'eu', empty: {}, nested: { deep: 0 }, gone: null },
  count: 0,
  flag: false,
};

describe('readField', () => {
  it.each<[string, FieldValue]>([
    ['owner', { kind: 'present', value: 'ann@example.com' }],
    ['nullOwner', { kind: 'null' }],
    ['missingField', { kind: 'missing' }],
    ['title', { kind: 'empty', value: '' }],
    ['tags', { kind: 'empty', value: [] }],
    ['labels', { kind: 'present', value: ['a'] }],
    ['attributes.region', { kind: 'present', value: 'eu' }],
    ['attributes.empty', { kind: 'empty', value: {} }],
    ['attributes.nested.deep', { kind: 'present', value: 0 }],
    ['attributes.gone', { kind: 'null' }],
    ['attributes.gone.below', { kind: 'missing' }],
    ['attributes.region.length', { kind: 'missing' }],
    ['labels.0', { kind: 'missing' }],
    ['count', { kind: 'present', value: 0 }],
    ['flag', { kind: 'present', value: false }],
    ['toString', { kind: 'missing' }],
  ])('%s', (path, expected) => {
    expect(readField(data, path)).toEqual(expected);
    expect(readField(data, fieldSegments(path))).toEqual(expected);
  });

  it('reads nothing from data that is not an object', () => {
    expect(readField(null, 'owner')).toEqual({ kind: 'missing' });
    expect(readField('text', 'length')).toEqual({ kind: 'missing' });
  });
});
