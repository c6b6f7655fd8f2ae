// The suites `npm run mutation` (Stryker, stryker.config.mjs) runs against each mutant of src/scheduling/,
// src/actors/ and src/machines/: engine, machine, scheduling, actors and durable examples, and the properties that drive
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
      'test/durable/**/*.test.ts',
      'property-tests/supervisor.test.ts',
      'property-tests/single-task.test.ts',
      'property-tests/machine-graph.test.ts',
      'property-tests/durable.test.ts',
    ],
    // kill.test.ts runs the built package in a child process (a mutant of src/ never reaches it); file-growth.test.ts
    // measures a store file over 30,000 tasks (4 s a run) and its retention is covered by test/engine/memory.test.ts.
    exclude: ['test/durable/kill.test.ts', 'test/durable/file-growth.test.ts'],
    env: {
      TASKCHART_RUNTIME: 'xstate',
      TASKCHART_PROPERTY_RUNS: process.env.TASKCHART_PROPERTY_RUNS ?? '60',
    },
    testTimeout: 20_000,
    hookTimeout: 20_000,
  },
});
