// @ts-check
/**
 * `npm run mutation`: Stryker (9.6, the last line that runs on Node 20) mutates the scheduling data structures,
 * the supervisor's actors and the statecharts, and runs vitest.mutation.config.mjs against each mutant. Static
 * mutants (code run once at load, as the whole task machine definition is) are included: each runs every test.
 * Not part of `npm test`. Results: docs/mutation-check.md; reports in .scratch/mutation/.
 * One directory at a time: `npm run mutation -- --mutate 'src/scheduling/**\/*.ts'`.
 * @type {import('@stryker-mutator/api/core').PartialStrykerOptions}
 */
const config = {
  testRunner: 'vitest',
  vitest: { configFile: 'vitest.mutation.config.mjs', related: false },
  mutate: ['src/scheduling/**/*.ts', 'src/actors/**/*.ts', 'src/machines/**/*.ts'],
  ignoreStatic: false,
  coverageAnalysis: 'perTest',
  reporters: ['clear-text', 'progress', 'html', 'json'],
  htmlReporter: { fileName: '.scratch/mutation/index.html' },
  jsonReporter: { fileName: '.scratch/mutation/mutation.json' },
  tempDirName: '.scratch/stryker-tmp',
  cleanTempDir: 'always',
  // `--incremental` re-runs only the mutants whose code or covering tests changed since the last run.
  incrementalFile: '.scratch/mutation/incremental.json',
  thresholds: { high: 90, low: 85, break: null },
  // A mutant that loops (a heap that never settles, a queue that never compacts) is killed by this timeout.
  timeoutMS: 5_000,
};

export default config;
