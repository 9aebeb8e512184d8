// Lint rules follow ../shared/STYLE.md: pure packages never touch I/O, the clock or randomness.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import globals from 'globals';

const impure = [
  { name: 'kafkajs', message: 'Only @tidemark/runtime talks to Kafka.' },
  { name: 'fs', message: 'Pure packages do no I/O.' },
  { name: 'node:fs', message: 'Pure packages do no I/O.' },
  { name: 'fs/promises', message: 'Pure packages do no I/O.' },
  { name: 'node:fs/promises', message: 'Pure packages do no I/O.' },
  { name: 'process', message: 'Pure packages take config as arguments.' },
  { name: 'node:process', message: 'Pure packages take config as arguments.' },
];

export default tseslint.config(
  {
    ignores: [
      '**/dist/**',
      '**/node_modules/**',
      'deploy/kafka/.cache/**',
      '**/*.tsbuildinfo',
      'coverage/**',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.node } },
  },
  {
    files: ['**/*.ts'],
    languageOptions: {
      parserOptions: {
        projectService: { allowDefaultProject: ['vitest.config.ts', 'vitest.faults.config.ts'] },
        tsconfigRootDir: import.meta.dirname,
      },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_' },
      ],
    },
  },
  {
    // Unit tests are outside the packages' tsconfig.json (they stay out of dist); tsconfig.tests.json holds them.
    files: ['packages/*/src/**/*.test.ts', 'services/*/src/**/*.test.ts'],
    languageOptions: {
      parserOptions: {
        projectService: false,
        project: ['./tsconfig.tests.json'],
        tsconfigRootDir: import.meta.dirname,
      },
    },
  },
  {
    // Pure logic: a function of (state, event, now). No I/O, no clock, no randomness.
    files: ['packages/*/src/**/*.ts'],
    ignores: [
      'packages/runtime/**',
      'packages/cli/**',
      'packages/replay/**',
      'packages/contracts/src/node.ts',
      'packages/*/src/**/*.test.ts',
      'packages/*/src/bench/**',
    ],
    rules: {
      'no-restricted-imports': ['error', { paths: impure }],
      'no-restricted-properties': [
        'error',
        { object: 'Date', property: 'now', message: 'Take `now` as a parameter (injected clock).' },
        { object: 'Math', property: 'random', message: 'Use a seeded generator passed in.' },
        { object: 'process', property: 'env', message: 'Config comes in as arguments.' },
      ],
      'no-restricted-globals': [
        'error',
        { name: 'process', message: 'Pure packages take config as arguments.' },
      ],
    },
  },
);
