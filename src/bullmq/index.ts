/**
 * `taskchart/bullmq`: run tasks on other machines through a BullMQ queue.
 * The executor side ({@link BullMQExecutor}) goes in the engine's
 * `executors`; the worker side ({@link createWorker}) is what
 * `taskchart worker` runs. Needs the optional peer dependencies `bullmq`
 * and `ioredis`; the core package never imports this entry point.
 *
 * Importing it without them throws a {@link MissingDependencyError} naming the packages to install, rather than
 * Node's bare "Cannot find package": the modules that import bullmq and ioredis are loaded here, once checked.
 * The declarations of this entry point name no bullmq or ioredis type (see ./types.ts), so a program that
 * imports it type-checks whether or not they are installed.
 */
import { missingPeers } from '../peer-dependencies.js';
import type { BullMQExecutor as BullMQExecutorClass } from './bullmq-executor.js';
import type { CreateWorkerOptions, TaskchartWorker } from './types.js';

/** The optional peer dependencies of this entry point, with the ranges taskchart's package.json gives them. */
const PEER_DEPENDENCIES: Readonly<Record<string, string>> = { bullmq: '^6.7.0', ioredis: '^6.0.0' };

const [executorModule, workerModule] = await Promise.all([import('./bullmq-executor.js'), import('./worker.js')]).catch(
  async (error: unknown) => {
    throw (await missingPeers('taskchart/bullmq', PEER_DEPENDENCIES, error)) ?? error;
  },
);

/**
 * An {@link Executor} that sends attempts to remote workers through a BullMQ queue.
 *
 * @example
 * const engine = new TaskEngine({ executors: { remote: new BullMQExecutor({ connection: 'redis://127.0.0.1:6379', queue: 'renders' }) } });
 * engine.registerTask({ name: 'render', executor: 'remote', handler: 'render', args: [{ frame: 1 }] });
 */
export const BullMQExecutor: typeof BullMQExecutorClass = executorModule.BullMQExecutor;
export type BullMQExecutor = BullMQExecutorClass;

/** Starts a worker on `queue`. Unknown handlers produce an `error` result, never a BullMQ failure. */
export const createWorker: (options: CreateWorkerOptions) => TaskchartWorker = workerModule.createWorker;

export type {
  BullMQExecutorOptions,
  CreateWorkerOptions,
  TaskchartWorker,
  BullMQWorker,
  RedisConnection,
  RedisConnectionOptions,
  RedisClient,
} from './types.js';
export { poolHandlers, type PoolHandlers } from './pool-handlers.js';
export {
  jobIdFor,
  cancelChannel,
  PROTOCOL_VERSION,
  WORKER_DEFAULTS,
  type JobData,
  type ResultEnvelope,
  type ProgressData,
} from './protocol.js';
