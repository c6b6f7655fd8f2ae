/**
 * Loading a handlers module for `taskchart worker`: its `handlers` export
 * (an object of name -> function) when it has one, else its named function
 * exports. The default export is not a handler (it has no name to call it by).
 */
import { existsSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { TaskFunction } from '../index.js';
import { formatError as describe } from './format.js';
import { CliInputError } from './input-error.js';

/** Imports `file` and returns its handlers by name. @throws CliInputError when it is missing, fails to load, or has none. */
export async function loadHandlers(file: string): Promise<ReadonlyMap<string, TaskFunction>> {
  const path = resolve(file);
  if (!existsSync(path) || !statSync(path).isFile()) throw new CliInputError(`Cannot find handlers module \`${file}\``);
  let module: Record<string, unknown>;
  try {
    module = (await import(pathToFileURL(path).href)) as Record<string, unknown>;
  } catch (error) {
    throw new CliInputError(`Cannot load handlers module \`${file}\`: ${describe(error)}`, { cause: error });
  }
  const source = module.handlers !== undefined ? module.handlers : module;
  if (typeof source !== 'object' || source === null || Array.isArray(source)) {
    throw new CliInputError(`Handlers module \`${file}\` exports \`handlers\` that are not an object of name -> function`);
  }
  const entries = Object.entries(source).filter(([name, value]) => name !== 'default' && typeof value === 'function');
  if (entries.length === 0) {
    throw new CliInputError(`Handlers module \`${file}\` exports no handlers: expected named functions (\`export async function render(ctx, frame) { ... }\`) or \`export const handlers = { render }\``);
  }
  return new Map(entries as Array<[string, TaskFunction]>);
}
