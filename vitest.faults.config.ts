import { defineConfig, mergeConfig } from 'vitest/config';
import base from './vitest.config.js';

// The fault suite (`npm run test:faults`): every row starts and stops a broker of its own on its own port
// (no global broker), spawns the built services and hits them with one fault. Not part of `npm test`.
export default mergeConfig(
  { resolve: base.resolve, ssr: base.ssr },
  defineConfig({
    test: {
      name: 'faults',
      include: ['test/faults/**/*.test.ts'],
      testTimeout: 300_000,
      hookTimeout: 120_000,
      // Two rows at a time: each runs a broker JVM and two or three services on a 2-core machine.
      maxWorkers: 2,
      reporters: ['default', './test/faults/table-reporter.ts'],
    },
  }),
);
