import { describe, expect, it } from 'vitest';
import { createProgram } from '../program.js';
import type { Output } from '../io.js';
import { UsageError } from '../usage-error.js';
import { instancesFrom } from './instances-option.js';

const silent: Output = { info: () => {}, error: () => {}, exitCode: () => {} };

describe('--service of the topics commands', () => {
  it.each([[['topics', 'create']], [['doctor']]])(
    'tidemark %s … refuses an unknown service before connecting (the flag repeats)',
    async (path) => {
      const program = createProgram(silent);
      const run = program.parseAsync([
        'node',
        'tidemark',
        ...path,
        '--brokers',
        '127.0.0.1:1',
        '--service',
        'contract-checker=cc-eu',
        '-s',
        'nope',
      ]);
      await expect(run).rejects.toThrow(UsageError);
      await expect(run).rejects.toThrow(/^unknown service "nope"; one of contract-checker, /);
    },
  );

  it.each([[['topics', 'create']], [['doctor']]])(
    'tidemark %s --help lists the flag and says where instance names come from',
    (path) => {
      let command = createProgram(silent);
      for (const name of path) command = command.commands.find((c) => c.name() === name)!;
      let help = '';
      command.configureOutput({ writeOut: (s) => (help += s) });
      command.outputHelp(); // with the text added after the options
      help = help.replace(/\s+/g, ' ');
      expect(help).toContain('-s, --service <service[=name]> plan only this service');
      expect(help).toContain('--service <service>=<name> this name');
      expect(help).toContain(
        'SERVICE_NAME the one service left without a name, e.g. SERVICE_NAME=cc-eu tidemark topics create --service contract-checker',
      );
      expect(help).toContain('DRIFT_SERVICE_NAME the drift-detector');
    },
  );

  it('takes SERVICE_NAME from the environment for the one selected service', () => {
    expect(
      instancesFrom({ service: ['parity-verifier'] }, { SERVICE_NAME: 'pv-eu' }).map((i) => i.name),
    ).toEqual(['pv-eu']);
    expect(instancesFrom({}, {}).map((i) => i.name)).toHaveLength(5);
  });
});
