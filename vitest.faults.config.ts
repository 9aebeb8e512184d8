import { defineConfig, mergeConfig } from 'vitest/config';
import { BaseSequencer, type TestSpecification } from 'vitest/node';
import base from './vitest.config.js';

/** The rows with a broker of their own (restart, kill -9, SIGSTOP): the longest, and independent of the shared one. */
const OWN_BROKER = /\/broker-[^/]*\.test\.ts$/;

/**
 * Rows with a broker of their own first: they run while the shared broker starts in the background, and the
 * longest rows going first keeps the two workers evenly busy to the end.
 */
class OwnBrokerRowsFirst extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const sorted = await super.sort(files);
    const own = (f: TestSpecification) => OWN_BROKER.test(f.moduleId);
    return [...sorted.filter(own), ...sorted.filter((f) => !own(f))];
  }
}

// The fault suite (`npm run test:faults`): the rows that restart, kill or freeze a broker start and stop one
// of their own; every other row shares one broker the global setup starts. Rows spawn the built services
// and hit them with one fault. Not part of `npm test`.
export default mergeConfig(
  { resolve: base.resolve, ssr: base.ssr },
  defineConfig({
    test: {
      name: 'faults',
      include: ['test/faults/**/*.test.ts'],
      globalSetup: ['test/faults/shared-broker.global.ts'],
      sequence: { sequencer: OwnBrokerRowsFirst },
      testTimeout: 300_000,
      hookTimeout: 120_000,
      // Two rows at a time: each runs two or three services (and some a broker JVM) on a 2-core machine.
      maxWorkers: 2,
      reporters: ['default', './test/faults/table-reporter.ts'],
    },
  }),
);
