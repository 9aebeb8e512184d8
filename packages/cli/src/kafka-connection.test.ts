import { ConfigError } from '@tidemark/core';
import { KAFKA_CONNECTION_SETTINGS } from '@tidemark/runtime';
import { describe, expect, it } from 'vitest';
import { createProgram } from './program.js';
import type { Output } from './io.js';
import { kafkaConnectionEnv, kafkaConnectionFrom } from './kafka-connection.js';

const silent: Output = { info: () => {}, error: () => {}, exitCode: () => {} };

function helpOf(...path: string[]): string {
  let command = createProgram(silent);
  for (const name of path) command = command.commands.find((c) => c.name() === name)!;
  return command.helpInformation();
}

describe('Kafka connection flags', () => {
  it.each([
    ['topics', 'create'],
    ['doctor'],
    ['silence', 'add'],
    ['silence', 'list'],
    ['silence', 'expire'],
    ['simulate'],
    ['demo'],
  ] as string[][])('tidemark %s … --help lists every flag with its variable', (...path) => {
    // commander wraps help text at 80 columns; compare it as one line.
    const help = helpOf(...path).replace(/\s+/g, ' ');
    for (const s of KAFKA_CONNECTION_SETTINGS) {
      expect(help).toMatch(new RegExp(`${s.flag} <${s.value}> [^<]*?env: ${s.env}\\)`));
    }
  });

  it('maps flags back to their variables, set ones only', () => {
    expect(
      kafkaConnectionEnv({
        brokers: 'b:1',
        sslCaFile: '/ca.pem',
        saslPassword: '',
        partitions: '3',
      }),
    ).toEqual({ KAFKA_BROKERS: 'b:1', KAFKA_SSL_CA_FILE: '/ca.pem' });
  });

  it('rejects an unreadable file naming the flag, the variable and the path', () => {
    expect(() => kafkaConnectionFrom({ brokers: 'b:1', sslCaFile: '/nope/ca.pem' })).toThrow(
      new ConfigError('invalid Kafka connection settings', [
        '--ssl-ca-file (KAFKA_SSL_CA_FILE): cannot read /nope/ca.pem (ENOENT)',
      ]),
    );
  });

  it('exits through ConfigError before connecting when a flag is bad', async () => {
    const program = createProgram(silent);
    await expect(
      program.parseAsync(['node', 'tidemark', 'doctor', '--brokers', 'b:1', '--ssl', 'perhaps']),
    ).rejects.toThrow(/--ssl \(KAFKA_SSL\)="perhaps": must be true or false/);
  });
});
