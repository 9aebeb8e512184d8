import { Command } from 'commander';
import { registerContracts } from './commands/contracts.js';
import { registerDemo } from './commands/demo.js';
import { registerDoctor } from './commands/doctor.js';
import { registerReplay } from './commands/replay.js';
import { registerSilence } from './commands/silence.js';
import { registerSimulate } from './commands/simulate.js';
import { registerState } from './commands/state.js';
import { registerTopics } from './commands/topics.js';
import type { Output } from './io.js';

/** Builds the `tidemark` command tree; each area registers its own subcommands. */
export function createProgram(out: Output): Command {
  const program = new Command('tidemark')
    .description(
      'Tidemark: data-quality and freshness monitor for knowledge sync pipelines.\n' +
        'Checks contracts, drift, freshness SLAs and delete/permission parity on Kafka event streams.',
    )
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride();
  registerTopics(program, out);
  registerDoctor(program, out);
  const contracts = registerContracts(program, out);
  registerReplay(program, contracts, out);
  registerDemo(program, out);
  registerSimulate(program, out);
  registerSilence(program, out);
  registerState(program, out);
  return program;
}
