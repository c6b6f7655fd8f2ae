/**
 * Loading a graph module: a file whose default export is `(engine) => void | Promise<void>`
 * and registers (and may start) tasks on the engine it is given. It may also export engine
 * `options`, and `handlers`: named task functions for `registerTask({ handler })`, which a
 * durable run needs (another process can run a named function, not a closure).
 */
import type { TaskEngine, TaskEngineOptions, TaskFunction } from '../index.js';
import { importModule } from './import-module.js';
import { CliInputError } from './input-error.js';
import { formatError as describe } from './format.js';

/** The shape a graph module's default export must have. */
export type GraphFunction = (engine: TaskEngine) => void | Promise<void>;

/** A loaded graph module: its function, the engine options it may export as `options`, its `handlers`. */
export interface GraphModule {
  readonly graph: GraphFunction;
  readonly options: TaskEngineOptions;
  /** `export const handlers = { name: fn }`, in the module's order; empty when absent. */
  readonly handlers: ReadonlyArray<readonly [string, TaskFunction]>;
}

/** Imports the module at `file`. @throws CliInputError when it is missing or unusable. */
export async function loadGraph(file: string): Promise<GraphModule> {
  const module = await importModule(file, 'graph module');
  const graph = module.default;
  if (typeof graph !== 'function') {
    const got = graph === undefined ? 'no default export' : `a default export of type ${typeof graph}`;
    throw new CliInputError(`Graph module \`${file}\` exports nothing usable: expected \`export default (engine) => { ... }\`, got ${got}`);
  }
  const options = module.options ?? {};
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw new CliInputError(
      `Graph module \`${file}\` exports \`options\` that are not engine options: expected an object, got ${Array.isArray(options) ? 'an array' : typeof options}`,
    );
  }
  return { graph: graph as GraphFunction, options: options as TaskEngineOptions, handlers: readHandlers(module.handlers, file) };
}

/** `handlers`: absent, or a plain object whose every value is a function. @throws CliInputError naming the export. */
function readHandlers(value: unknown, file: string): ReadonlyArray<readonly [string, TaskFunction]> {
  if (value === undefined) return [];
  const bad = (got: string): CliInputError =>
    new CliInputError(
      `Graph module \`${file}\` exports \`handlers\` that are not task functions: expected an object of name -> function (\`export const handlers = { fetch: async (ctx, url) => ... }\`), got ${got}`,
    );
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw bad(value === null ? 'null' : Array.isArray(value) ? 'an array' : `a ${typeof value}`);
  const prototype = Object.getPrototypeOf(value) as unknown;
  if (prototype !== Object.prototype && prototype !== null) throw bad(`an instance of ${(value as object).constructor?.name ?? 'a class'}`);
  const entries = Object.entries(value as Record<string, unknown>);
  for (const [name, fn] of entries) {
    if (typeof fn !== 'function') throw bad(`\`handlers[${JSON.stringify(name)}]\` of type ${fn === null ? 'null' : typeof fn}`);
  }
  return entries as [string, TaskFunction][];
}

/** Names each handler with `engine.defineTask`, before the store is restored or the graph built. */
export function defineHandlers(engine: TaskEngine, handlers: GraphModule['handlers'], file: string): void {
  for (const [name, fn] of handlers) {
    try {
      engine.defineTask(name, fn);
    } catch (error) {
      throw new CliInputError(
        `Graph module \`${file}\` exports a handler the engine refuses (\`handlers[${JSON.stringify(name)}]\`): ${describe(error)}`,
        { cause: error },
      );
    }
  }
}

/** Calls the graph function. @throws CliInputError when it throws or rejects (a cycle, an unknown dependency, ...). */
export async function buildGraph(graph: GraphFunction, engine: TaskEngine, file: string): Promise<void> {
  try {
    await graph(engine);
  } catch (error) {
    throw new CliInputError(`Invalid task graph in \`${file}\`: ${describe(error)}`, { cause: error });
  }
}
