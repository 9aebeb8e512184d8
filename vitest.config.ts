import { defineConfig } from 'vitest/config';

// Tests import workspace packages through the "source" export condition, so unit tests run
// against src/*.ts without a build. Integration tests (test/) talk to a real Kafka broker
// started (or reused) by the global setup.
// Only "source" is added to Vite's own: no "module" (some packages point it at ESM builds Node itself would not
// load) and no "import" (Vitest hands custom conditions to Node, where "import" would also steer require()).
const conditions = ['source', 'node'];

export default defineConfig({
  resolve: { conditions },
  ssr: { resolve: { conditions, externalConditions: ['source'] } },
  test: {
    projects: [
      {
        extends: true,
        test: {
          name: 'unit',
          // Unit tests run first (fast feedback), then the broker tests with their own worker limit.
          sequence: { groupOrder: 0 },
          include: ['packages/*/src/**/*.test.ts', 'services/*/src/**/*.test.ts'],
          testTimeout: 20_000,
        },
      },
      {
        extends: true,
        test: {
          name: 'integration',
          sequence: { groupOrder: 1 },
          include: ['test/**/*.test.ts'],
          // The fault suite starts brokers of its own and takes minutes: `npm run test:faults`.
          exclude: ['test/faults/**'],
          globalSetup: ['test/setup/kafka.global.ts'],
          testTimeout: 120_000,
          hookTimeout: 120_000,
          // Each file runs its own consumers and child processes; two cores, so keep it modest.
          maxWorkers: 2,
        },
      },
    ],
  },
});
