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
  ])('allows in %s: %s', async (path, source) => {
    expect(await boundaryErrors(path, `${source}\nexport {};\n`)).toEqual([]);
  });
});
