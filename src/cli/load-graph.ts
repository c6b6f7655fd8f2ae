/**
 * Loading a graph module: a file whose default export is `(engine) => void | Promise<void>`
 * and registers (and may start) tasks on the engine it is given.
 */
import { existsSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { TaskEngine, TaskEngineOptions } from '../index.js';
import { CliInputError } from './input-error.js';
import { formatError as describe } from './format.js';

/** The shape a graph module's default export must have. */
export type GraphFunction = (engine: TaskEngine) => void | Promise<void>;

/** A loaded graph module: its function, and the engine options it may export as `options`. */
export interface GraphModule {
  readonly graph: GraphFunction;
  readonly options: TaskEngineOptions;
}

/** Imports the module at `file`. @throws CliInputError when it is missing or unusable. */
export async function loadGraph(file: string): Promise<GraphModule> {
  const path = resolve(file);
  if (!existsSync(path) || !statSync(path).isFile()) throw new CliInputError(`Cannot find graph module \`${file}\``);
  let module: Record<string, unknown>;
  try {
    module = (await import(pathToFileURL(path).href)) as Record<string, unknown>;
  } catch (error) {
    throw new CliInputError(`Cannot load graph module \`${file}\`: ${describe(error)}`, { cause: error });
  }
  const graph = module.default;
  if (typeof graph !== 'function') {
    const got = graph === undefined ? 'no default export' : `a default export of type ${typeof graph}`;
    throw new CliInputError(`Graph module \`${file}\` exports nothing usable: expected \`export default (engine) => { ... }\`, got ${got}`);
  }
  const options = module.options ?? {};
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw new CliInputError(`Graph module \`${file}\` exports \`options\` that are not engine options: expected an object, got ${Array.isArray(options) ? 'an array' : typeof options}`);
  }
  return { graph: graph as GraphFunction, options: options as TaskEngineOptions };
}

/** Calls the graph function. @throws CliInputError when it throws or rejects (a cycle, an unknown dependency, ...). */
export async function buildGraph(graph: GraphFunction, engine: TaskEngine, file: string): Promise<void> {
  try {
    await graph(engine);
  } catch (error) {
    throw new CliInputError(`Invalid task graph in \`${file}\`: ${describe(error)}`, { cause: error });
  }
}


