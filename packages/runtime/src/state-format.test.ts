import { ConfigError, type ServiceTopology } from '@tidemark/core';
import { describe, expect, it } from 'vitest';
import {
  STATE_FORMAT_HEADER,
  StateFormatError,
  checkStateFormat,
  definitionStateFormat,
  recordStateFormat,
  stateFormatHeaders,
  type ChangelogRecord,
} from './state-format.js';

const where = { service: 'cc-eu', topic: 'tidemark.cc-eu.state', partition: 2, supported: 2 };

function record(offset: number, format?: string | Buffer | Buffer[]): ChangelogRecord {
  return {
    offset: String(offset),
    ...(format === undefined ? {} : { headers: { [STATE_FORMAT_HEADER]: format } }),
  };
}

describe('checkStateFormat', () => {
  it.each<[string, ChangelogRecord[]]>([
    ['no records', []],
    ['records written before the header existed are format 1', [record(0), record(1)]],
    ['formats up to the supported one', [record(0, Buffer.from('1')), record(1, Buffer.from('2'))]],
    ['a header kafkajs hands over as a string', [record(0, '2')]],
    ['other headers only', [{ offset: '0', headers: { 'content-type': Buffer.from('x') } }]],
  ])('accepts %s', (_, records) => {
    expect(checkStateFormat(records, where)).toBeUndefined();
  });

  it.each<[string, ChangelogRecord[], string, string]>([
    ['a newer format', [record(0, Buffer.from('1')), record(1, Buffer.from('3'))], '1', '3'],
    ['the first unknown one of several', [record(5, '4'), record(6, '9')], '5', '4'],
    ['a header that is not a number', [record(7, Buffer.from('two'))], '7', '"two"'],
    ['format 0', [record(8, '0')], '8', '"0"'],
    ['a repeated header', [record(9, [Buffer.from('1'), Buffer.from('1')])], '9', '"1,1"'],
  ])(
    'refuses %s, naming the topic, partition, offset, found and supported formats',
    (_, records, offset, found) => {
      const error = checkStateFormat(records, where);
      expect(error).toBeInstanceOf(StateFormatError);
      expect(error).toBeInstanceOf(ConfigError); // exit 2 at the host, like every configuration problem
      expect(error).toMatchObject({
        topic: 'tidemark.cc-eu.state',
        partition: 2,
        offset,
        found,
        supported: 2,
        retriable: false,
      });
      expect(error?.message).toBe(
        `the state changelog tidemark.cc-eu.state[2] holds a record in state format ${found} at offset ${offset}; this version of cc-eu reads state formats 1 to 2:\n` +
          '  - it was written by a newer version of cc-eu: run that version (or a newer one) again\n' +
          '  - or, to discard the state, stop every instance and run "tidemark state reset cc-eu --yes"',
      );
    },
  );

  it('reads what stateFormatHeaders writes', () => {
    const written = { offset: '0', headers: stateFormatHeaders(2) };
    expect(checkStateFormat([written], where)).toBeUndefined();
    expect(checkStateFormat([written], { ...where, supported: 1 })?.found).toBe('2');
  });
});

describe('recordStateFormat', () => {
  it.each<[string, ChangelogRecord, number]>([
    ['no header: format 1', record(0), 1],
    ['a Buffer header', record(0, Buffer.from('3')), 3],
    ['a string header', record(0, '12'), 12],
    ['garbage', record(0, 'v2'), NaN],
    ['a repeated header', record(0, [Buffer.from('2'), Buffer.from('2')]), NaN],
  ])('%s', (_, r, expected) => {
    expect(recordStateFormat(r)).toBe(expected);
  });
});

describe('definitionStateFormat', () => {
  const topology = (stateFormat: number): ServiceTopology => ({
    service: 'svc',
    internalTopics: () => [],
    stateFormat,
  });

  it.each<[string, { name: string; topology?: ServiceTopology }, number]>([
    ['format 1 without a topology', { name: 'svc' }, 1],
    ["the topology's format", { name: 'svc', topology: topology(4) }, 4],
  ])('%s', (_, definition, expected) => {
    expect(definitionStateFormat(definition)).toBe(expected);
  });

  it.each([0, 1.5, -1, Number.NaN])('refuses stateFormat %s', (format) => {
    expect(() => definitionStateFormat({ name: 'svc', topology: topology(format) })).toThrow(
      new ConfigError('invalid topology of svc', [
        `stateFormat must be a whole number ≥ 1, got ${JSON.stringify(format)}`,
      ]),
    );
  });
});
