/**
 * Import boundaries between the layers of src/ (docs/architecture.md, "Layers"): each entry lists what a
 * directory must not import, so that a lower layer reaching into a higher one fails `npm run lint`.
 * ESLint's own `no-restricted-imports` (type-only imports included); one config object per directory,
 * since a later object's options for the same rule replace an earlier one's.
 */

/** Everything above the wire helpers and the pure layers. */
const ENGINE = ['../engine.js', '../actors/**', '../runtime/**'];
const EXECUTORS = ['../executors/**', '../pool/**', '../bullmq/**'];
/** OpenTelemetry is taskchart/otel's alone: the engine has a seam for it (src/instrumentation.ts) and never imports it. */
const OTEL = ['@opentelemetry/*', '../otel/**', './otel/**'];
/** A pool thread and a remote worker load OpenTelemetry's worker side through otel/load.ts, only when a trace context arrives. */
const OTEL_LOADER = [...OTEL, '!../otel/load.js'];

/** @type {Array<{ files: string[]; forbidden: string[]; why: string }>} */
const BOUNDARIES = [
  {
    files: ['src/**/*.ts'],
    forbidden: OTEL,
    why: 'only src/otel/ imports @opentelemetry/api (an optional peer dependency): an engine that is not instrumented loads none of it (src/instrumentation.ts is the seam)',
  },
  {
    files: ['src/wire/**/*.ts'],
    forbidden: ['../*/**', '../engine.js', '../task-spec.js', '../options.js', ...OTEL],
    why: 'src/wire/ (error serialisation, cloneability, the task-context rules) belongs to no executor and no layer: it imports only the files at the top of src/ that import nothing of the engine (errors, validate)',
  },
  {
    files: ['src/store/**/*.ts'],
    forbidden: [...ENGINE, ...EXECUTORS, '../monitor/**', ...OTEL],
    why: 'the store keeps rows; what they mean (TaskRecord, restore decisions) is decided in src/actors/ (task-rows.ts, restore.ts)',
  },
  {
    files: ['src/monitor/**/*.ts'],
    forbidden: [...ENGINE, ...EXECUTORS, '../store/**', ...OTEL],
    why: 'the monitor reports what the supervisor gives it; it reads no TaskRecord and no commit gate of src/actors/',
  },
  {
    files: ['src/executors/**/*.ts'],
    forbidden: [...ENGINE, '../pool/**', '../bullmq/**', '../store/**', '../monitor/**', ...OTEL],
    why: 'the Executor interface and the async executor sit below the supervisor and beside the other executors',
  },
  {
    files: ['src/pool/**/*.ts'],
    forbidden: [...ENGINE, '../bullmq/**', '../store/**', '../monitor/**', ...OTEL_LOADER],
    why: 'the pool executor runs attempts; wire helpers it shares with others live in src/wire/',
  },
  {
    files: ['src/bullmq/**/*.ts'],
    forbidden: [...ENGINE, '../store/**', '../monitor/**', '../pool/**', '!../pool/pool-executor.js', ...OTEL_LOADER],
    why: 'the remote executor and worker use src/wire/ for errors and checks; of the pool only PoolExecutor (taskchart worker --pool)',
  },
  {
    files: ['src/machines/**/*.ts', 'src/scheduling/**/*.ts'],
    forbidden: [...ENGINE, ...EXECUTORS, '../store/**', '../monitor/**', ...OTEL],
    why: 'statecharts and pure data structures: effects come in through provide(), never by import',
  },
  {
    files: ['src/task-spec.ts'],
    forbidden: [
      './engine.js',
      './actors/**',
      './runtime/**',
      './executors/**',
      './pool/**',
      './bullmq/**',
      './store/**',
      './monitor/**',
      ...OTEL,
    ],
    why: 'the task spec is vocabulary that executors and the store read; it imports none of them (executors/executor.ts imports it)',
  },
  {
    files: ['src/engine.ts', 'src/actors/**/*.ts', 'src/runtime/**/*.ts', 'src/options.ts'],
    forbidden: ['./pool/**', '!./pool/pool-executor.js', '../pool/**', '!../pool/pool-executor.js', './bullmq/**', '../bullmq/**', ...OTEL],
    why: 'the engine uses executors through their interface: of src/pool/ only PoolExecutor, nothing of src/bullmq/, and wire helpers from src/wire/',
  },
];

export default BOUNDARIES.map(({ files, forbidden, why }) => ({
  files,
  ignores: ['src/otel/**'],
  rules: { 'no-restricted-imports': ['error', { patterns: [{ group: forbidden, message: why }] }] },
}));
