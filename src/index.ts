/** taskchart: tasks as XState v5 actors under a supervisor. */
export { TaskEngine } from './engine.js';
export type { ShutdownOptions, RestoreOptions, RegisterTasksOptions } from './verb-options.js';
export { TaskStatus, TaskPriority } from './status.js';
export type { TaskSpec, TaskContext, TaskFunction, TaskKind, DependencyOutcome } from './task-spec.js';
export type { TaskInfo, TaskSettings, WaitingOn } from './actors/task-record.js';
export type { Hold, LimitClaim } from './scheduling/key-limits.js';
export type { LimiterSpec, LimitSpec } from './limits.js';
export type { CacheSpec } from './long-running.js';
export type { TriggerRule } from './machines/trigger-rules.js';
export type { TaskEngineOptions, Clock } from './options.js';
export type { RuntimeKind } from './runtime/task-runtime.js';
export type { TaskStats } from './monitor/stats.js';
export type { Executor, AttemptRequest } from './executors/executor.js';
export type { TaskStore, TaskRow, TaskStateRow, StoreBatch } from './store/task-store.js';
export type { RestoreReport } from './actors/restore.js';
export {
  ofType,
  type TaskEvent,
  type TaskEventType,
  type RegisteredEvent,
  type StatusEvent,
  type ProgressEvent,
  type RetryEvent,
  type ResourceErrorEvent,
  type ExecutorWaitEvent,
  type StoreErrorEvent,
  type StalledEvent,
  type RateLimitedEvent,
  type DeadlineEvent,
  type CacheSkippedEvent,
} from './events.js';
export {
  ErrorCode,
  TaskChartError,
  TaskNotFoundError,
  InvalidTransitionError,
  DuplicateTaskError,
  UnknownDependencyError,
  DependencyCycleError,
  DependencyFailedError,
  TaskTimeoutError,
  TaskStalledError,
  CacheKeyError,
  TaskCancelledError,
  TriggerRuleError,
  RateLimitedError,
  WorkerCrashedError,
  ExecutorUnavailableError,
  InterruptedError,
  StoreError,
  EngineShutDownError,
  InvalidOptionError,
  NonRetryableError,
  ModuleLoadError,
  MissingExportError,
  ResultNotCloneableError,
  UnknownHandlerError,
  ExecutorFailedError,
  MissingDependencyError,
  type TaskRef,
} from './errors.js';
export { taskMachine, STATUS_OF_STATE, type TaskState } from './machines/task.machine.js';
export { supervisorMachine } from './machines/supervisor.machine.js';
