#!/usr/bin/env node
import { CommanderError } from 'commander';
import { ConfigError } from '@tidemark/core';
import { processOutput } from './io.js';
import { createProgram } from './program.js';
import { UsageError } from './commands/topics.js';

// Exit codes: 0 ok, 1 problems found / runtime failure, 2 bad usage or bad config.
try {
  await createProgram(processOutput).parseAsync(process.argv);
} catch (error) {
  if (error instanceof CommanderError) {
    process.exitCode = error.exitCode === 0 ? 0 : 2;
  } else if (error instanceof ConfigError || error instanceof UsageError) {
    process.stderr.write(`tidemark: ${error.message}\n`);
    process.exitCode = 2;
  } else {
    process.stderr.write(`tidemark: ${(error as Error).message ?? String(error)}\n`);
    process.exitCode = 1;
  }
}
