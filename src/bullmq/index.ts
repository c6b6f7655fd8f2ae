/**
 * `taskchart/bullmq`: run tasks on other machines through a BullMQ queue.
 * The executor side ({@link BullMQExecutor}) goes in the engine's
 * `executors`; the worker side ({@link createWorker}) is what
 * `taskchart worker` runs. Needs the optional peer dependencies `bullmq`
 * and `ioredis`; the core package never imports this entry point.
 */
export { BullMQExecutor } from './bullmq-executor.js';
export type { BullMQExecutorOptions } from './options.js';
export { createWorker, type CreateWorkerOptions, type TaskchartWorker } from './worker.js';
export { poolHandlers, type PoolHandlers } from './pool-handlers.js';
export type { RedisConnection } from './connection.js';
export { jobIdFor, cancelChannel, PROTOCOL_VERSION, WORKER_DEFAULTS, type JobData, type ResultEnvelope, type ProgressData } from './protocol.js';
