/**
 * The import-boundary check (eslint.boundaries.js, run by `npm run lint`) refuses each wrong-way import
 * that the import graph once had, and lets the allowed ones through.
 */
import { ESLint } from 'eslint';
import { describe, expect, it } from 'vitest';

const eslint = new ESLint({ cwd: new URL('..', import.meta.url).pathname });

/** The `no-restricted-imports` messages for `source` linted as if it were the file at `path`. */
async function boundaryErrors(path: string, source: string): Promise<string[]> {
  const [result] = await eslint.lintText(source, { filePath: path });
  return (result?.messages ?? []).filter((m) => m.ruleId === 'no-restricted-imports').map((m) => m.message);
}

describe('import boundaries', () => {
  it.each([
    ['src/store/durability.ts', "import type { TaskRecord } from '../actors/task-record.js';"],
    ['src/store/restore-tasks.ts', "import type { Supervisor } from '../actors/supervisor.js';"],
    ['src/store/restore-tasks.ts', "import { isFinalState } from '../actors/restore.js';"],
    ['src/monitor/task-events.ts', "import type { TaskRecord } from '../actors/task-record.js';"],
    ['src/monitor/task-events.ts', "import type { CommitGate } from '../actors/commit-gate.js';"],
    ['src/store/codec.ts', "import { serializeError } from '../pool/protocol.js';"],
    ['src/bullmq/protocol.ts', "import { deserializeError } from '../pool/protocol.js';"],
    ['src/task-spec.ts', "import { findUncloneable } from './pool/cloneable.js';"],
    ['src/engine.ts', "import { findUncloneable } from './pool/cloneable.js';"],
    ['src/actors/attempt-runner.ts', "import { findUncloneable } from '../pool/cloneable.js';"],
    ['src/task-spec.ts', "import type { TaskKind } from './executors/executor.js';"],
    ['src/wire/errors.ts', "import { PoolExecutor } from '../pool/pool-executor.js';"],
    ['src/pool/worker.ts', "import { Supervisor } from '../actors/supervisor.js';"],
    ['src/machines/task.machine.ts', "import { PoolExecutor } from '../pool/pool-executor.js';"],
    // OpenTelemetry is taskchart/otel's alone: the engine reaches it only through src/instrumentation.ts.
    ['src/engine.ts', "import { trace } from '@opentelemetry/api';"],
    ['src/actors/supervisor.ts', "import { context } from '@opentelemetry/api';"],
    ['src/actors/attempt-runner.ts', "import { inject } from '../otel/carrier.js';"],
    ['src/index.ts', "export { instrument } from './otel/index.js';"],
    ['src/cli/main.ts', "import { trace } from '@opentelemetry/api';"],
    ['src/pool/worker.ts', "import { activate } from '../otel/worker-side.js';"],
    ['src/bullmq/processor.ts', "import { context } from '@opentelemetry/api';"],
    ['src/wire/errors.ts', "import { trace } from '@opentelemetry/api';"],
  ])('refuses in %s: %s', async (path, source) => {
    const errors = await boundaryErrors(path, `${source}\nexport {};\n`);
    expect(errors).toHaveLength(1);
  });

  it.each([
    ['src/engine.ts', "import { PoolExecutor } from './pool/pool-executor.js';"],
    ['src/bullmq/pool-handlers.ts', "import { PoolExecutor } from '../pool/pool-executor.js';"],
    ['src/executors/executor.ts', "import type { TaskContext } from '../task-spec.js';"],
    ['src/store/codec.ts', "import { serializeError } from '../wire/errors.js';"],
    ['src/actors/task-rows.ts', "import type { TaskRows } from '../store/durability.js';"],
    ['src/pool/worker.ts', "import { checkProgress } from '../wire/task-context.js';"],
    ['src/pool/worker.ts', "import { loadWorkerSide } from '../otel/load.js';"],
    ['src/bullmq/processor.ts', "import { loadWorkerSide } from '../otel/load.js';"],
    ['src/otel/tracing.ts', "import { trace } from '@opentelemetry/api';"],
    ['src/otel/instrument.ts', "import { TaskEngine } from '../engine.js';"],
  ])('allows in %s: %s', async (path, source) => {
    expect(await boundaryErrors(path, `${source}\nexport {};\n`)).toEqual([]);
  });
});
