import { describe, expect, it } from 'vitest';
import { YamlReader, parseSource } from './yaml-source.js';

describe('YamlReader', () => {
  it('reads fields by path and points every problem at its line, column and field', () => {
    const r = new YamlReader(
      ['route:', '  receiver: 7', '  colour: red', 'list: [a, 2, c]', 'flag: yes'].join('\n'),
      'f.yml',
    );
    const top = r.map(r.root, ['route', 'list', 'flag']) ?? new Map();
    const route = r.map(top.get('route'), ['receiver']) ?? new Map();
    expect(r.str(route.get('receiver'))).toBeUndefined();
    expect(r.strings(top.get('list'))).toEqual(['a', 'c']);
    expect(r.bool(top.get('flag'))).toBeUndefined();
    expect(r.line(route.get('receiver'))).toBe(2);
    // Recorded out of order, listed in file order.
    r.problem(r.root, 'checked last');
    expect(r.sortedProblems()).toEqual([
      'f.yml:1:1: checked last',
      'f.yml:2:13: route.receiver: must be a string',
      'f.yml:3:3: route.colour: unknown field (allowed: receiver)',
      'f.yml:4:11: list[1]: must be a string',
      'f.yml:5:7: flag: must be true or false',
    ]);
  });

  it('follows aliases', () => {
    const r = new YamlReader('base: &b {x: "1"}\nother: *b\n', 'f.yml');
    const top = r.map(r.root, ['base', 'other']) ?? new Map();
    const other = r.map(top.get('other'), ['x']) ?? new Map();
    expect(r.str(other.get('x'))).toBe('1');
    expect(r.problems).toEqual([]);
  });

  it.each([
    [
      'a YAML syntax error',
      'a: [1, 2\nb: c\n',
      [
        'f.yml:2:1: YAML: Flow sequence in block collection must be sufficiently indented and end with a ]',
      ],
    ],
    ['a duplicate key', 'a: 1\na: 2\n', ['f.yml:2:1: YAML: Map keys must be unique']],
    [
      'a second document',
      'a: 1\n---\nb: 2\n',
      ['f.yml:3:1: YAML: expected one document, found 2 (--- starts another)'],
    ],
  ])('reports %s with its position', (_case, text, expected) => {
    expect(new YamlReader(text, 'f.yml').sortedProblems()).toEqual(expected);
  });

  it('reads an empty file as an empty document, problems at 1:1', () => {
    const r = new YamlReader('', 'f.yml');
    expect(r.isNull(r.root)).toBe(true);
    expect(r.map(r.root, ['a'])).toEqual(new Map());
    r.problem(r.root, 'no routes provided');
    expect(r.sortedProblems()).toEqual(['f.yml:1:1: no routes provided']);
  });
});

describe('parseSource', () => {
  it('points a path at its node, or its key, with line and column', () => {
    const { documents, problems } = parseSource(
      'c.yaml',
      'kind: X\nspec:\n  slas: { syncLag: 15 minutes }\n',
    );
    expect(problems).toEqual([]);
    const [doc] = documents;
    expect(doc?.problem(['spec', 'slas', 'syncLag'], 'bad')).toEqual({
      file: 'c.yaml',
      line: 3,
      column: 20,
      message: 'bad',
    });
    expect(doc?.problem(['spec', 'slas'], 'bad', { key: true })).toMatchObject({
      line: 3,
      column: 3,
    });
  });
});
