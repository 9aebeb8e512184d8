import { describe, expect, it } from 'vitest';
import {
  MatcherSyntaxError,
  formatMatchers,
  matchesAll,
  parseMatcher,
  parseMatchers,
  sortMatchers,
} from './matcher.js';

describe('parseMatcher (Alertmanager syntax)', () => {
  it.each([
    ['foo=bar', '=', 'foo', 'bar'],
    ['  foo  !=  "bar baz"  ', '!=', 'foo', 'bar baz'],
    ['foo=~"a|b"', '=~', 'foo', 'a|b'],
    ['foo!~x.*', '!~', 'foo', 'x.*'],
    ['foo=', '=', 'foo', ''],
    ['foo=""', '=', 'foo', ''],
    ['foo="say \\"hi\\""', '=', 'foo', 'say "hi"'],
    ['foo="a\\nb"', '=', 'foo', 'a\nb'],
    ['foo="back\\\\slash"', '=', 'foo', 'back\\slash'],
    ['foo="spurious\\.escape"', '=', 'foo', 'spurious\\.escape'],
    ['foo=trailing\\', '=', 'foo', 'trailing\\'],
    ['ns:sub_1=~"x"', '=~', 'ns:sub_1', 'x'],
    ['foo==bar', '=', 'foo', '=bar'],
  ])('%s', (input, type, name, value) => {
    const m = parseMatcher(input);
    expect([m.type, m.name, m.value]).toEqual([type, name, value]);
  });

  it.each([
    ['9foo=bar', 'bad matcher format: 9foo=bar'],
    ['foo', 'bad matcher format: foo'],
    ['foo~=bar', 'bad matcher format: foo~=bar'],
    ['foo="bar', 'matcher value contains unescaped double quote: "bar'],
    ['foo=b"ar', 'matcher value contains unescaped double quote: b"ar'],
    ['foo="a"b"', 'matcher value contains unescaped double quote: "a"b"'],
    [
      'foo=~"(x"',
      'invalid regular expression "(x": error parsing regexp: missing closing ): `^(?:(x)$`',
    ],
    [
      'foo=~"(?=x)"',
      'invalid regular expression "(?=x)": error parsing regexp: invalid or unsupported Perl syntax: `(?=`',
    ],
  ])('rejects %s', (input, message) => {
    expect(() => parseMatcher(input)).toThrow(MatcherSyntaxError);
    expect(() => parseMatcher(input)).toThrow(message);
  });
});

describe('parseMatchers', () => {
  it.each([
    ['{foo = "bar", dings != "bums", }', ['foo="bar"', 'dings!="bums"']],
    ['foo=bar,dings!=bums', ['foo="bar"', 'dings!="bums"']],
    ['{quote="She said: \\"Hi, ladies!\\""}', ['quote="She said: \\"Hi, ladies!\\""']],
    ['statuscode=~"5.."', ['statuscode=~"5.."']],
    ['a="x,y", b=~"1|2"', ['a="x,y"', 'b=~"1|2"']],
    ['', []],
  ])('%s', (input, expected) => {
    expect(parseMatchers(input).map((m) => formatMatchers([m]).slice(1, -1))).toEqual(expected);
  });

  it('rejects an empty item between commas', () => {
    expect(() => parseMatchers('a=b,,c=d')).toThrow('bad matcher format: ');
  });
});

describe('matching', () => {
  it.each([
    // regexes are fully anchored
    ['a=~"x"', { a: 'xx' }, false],
    ['a=~"x"', { a: 'x' }, true],
    ['a=~"x|y"', { a: 'xy' }, false],
    ['a=~"x.*"', { a: 'yx' }, false],
    ['a=~"x.*"', { a: 'x-long' }, true],
    ['a!~"x.*"', { a: 'x-long' }, false],
    ['a=~"(?i)WIKI"', { a: 'wiki' }, true],
    ['a=~"[[:digit:]]+"', { a: '123' }, true],
    ['a=~"\\\\d+"', { a: '123' }, true],
    // a missing label is the empty string
    ['a=""', {}, true],
    ['a!=""', {}, false],
    ['a!="x"', {}, true],
    ['a=~".*"', {}, true],
    ['a=~".+"', {}, false],
    ['a=~"x|"', {}, true],
    // all matchers must hold
    ['a="x", b="y"', { a: 'x', b: 'y' }, true],
    ['a="x", b="y"', { a: 'x', b: 'z' }, false],
  ])('%s on %j → %s', (matchers, labels, expected) => {
    expect(matchesAll(parseMatchers(matchers), labels)).toBe(expected);
  });

  it('sorts like Alertmanager: by name, then value, then operator', () => {
    const sorted = sortMatchers(parseMatchers('b="1", a!="2", a="2", a=~"1"'));
    expect(formatMatchers(sorted)).toBe('{a=~"1",a="2",a!="2",b="1"}');
  });
});
