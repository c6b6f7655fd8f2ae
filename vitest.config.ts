import { defineConfig } from 'vitest/config';

/**
 * Two projects, one per task runtime (`TASKCHART_RUNTIME` is the engine's default when its `runtime` option is
 * absent, and child processes inherit it): every test under 'xstate'; every engine, durable, pool, remote and
 * property test again under 'compiled'. Tests that never create an engine (pure data structures, the store's
 * driver, the worker command, the terminal and browser views, the docs) run once.
 */
const BOTH_RUNTIMES = [
  'test/engine/**/*.test.ts',
  'test/durable/**/*.test.ts',
  'test/pool/**/*.test.ts',
  'test/bullmq/remote.test.ts',
  'test/bullmq/lifecycle.test.ts',
  'test/bullmq/crash.test.ts',
  'test/bullmq/scale.test.ts',
  'test/bullmq/start-batch.test.ts',
  'test/bullmq/errors.test.ts',
  'test/bullmq/pipelines.test.ts',
  'test/bullmq/long-running.test.ts',
  'test/regressions/**/*.test.ts',
  'test/otel/**/*.test.ts',
  'test/dashboard/dashboard.test.ts',
  'test/cli/durable.test.ts',
  'test/cli/run.test.ts',
  'property-tests/single-task.test.ts',
  'property-tests/supervisor.test.ts',
  'property-tests/durable.test.ts',
  'property-tests/bad-input.test.ts',
];

export default defineConfig({
  test: {
    testTimeout: 20_000,
    hookTimeout: 20_000,
    projects: [
      {
        extends: true,
        test: { name: 'xstate', include: ['test/**/*.test.ts', 'property-tests/**/*.test.ts'], env: { TASKCHART_RUNTIME: 'xstate' } },
      },
      {
        extends: true,
        test: { name: 'compiled', include: BOTH_RUNTIMES, env: { TASKCHART_RUNTIME: 'compiled' } },
      },
    ],
  },
});
