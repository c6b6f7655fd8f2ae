// The suites `npm run mutation` (Stryker, stryker.config.mjs) runs against each mutant of src/scheduling/,
// src/actors/ and src/machines/: engine, machine, scheduling and actors examples, and the properties that drive
// the supervisor, the task machine and the durable engine across crashes, with fewer runs (TASKCHART_PROPERTY_RUNS) so that the
// static mutants, each of which runs the whole selection, stay affordable. One runtime (XState actors): the
// compiled runtime runs the same machine, so a mutant of it fails or survives alike.
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: [
      'test/engine/**/*.test.ts',
      'test/machines/**/*.test.ts',
      'test/scheduling/**/*.test.ts',
      'test/actors/**/*.test.ts',
      'property-tests/supervisor.test.ts',
      'property-tests/single-task.test.ts',
      'property-tests/machine-graph.test.ts',
      'property-tests/durable.test.ts',
    ],
    env: {
      TASKCHART_RUNTIME: 'xstate',
      TASKCHART_PROPERTY_RUNS: process.env.TASKCHART_PROPERTY_RUNS ?? '60',
    },
    testTimeout: 20_000,
    hookTimeout: 20_000,
  },
});
