/**
 * Loading a handlers module for `taskchart worker`: its `handlers` export
 * (an object of name -> function) when it has one, else its named function
 * exports. The default export is not a handler (it has no name to call it by).
 */
import type { TaskFunction } from '../index.js';
import { importModule } from './import-module.js';
import { CliInputError } from './input-error.js';

/** Imports `file` and returns its handlers by name. @throws CliInputError when it is missing, fails to load, or has none. */
export async function loadHandlers(file: string): Promise<ReadonlyMap<string, TaskFunction>> {
  const module = await importModule(file, 'handlers module');
  const source = module.handlers !== undefined ? module.handlers : module;
  if (typeof source !== 'object' || source === null || Array.isArray(source)) {
    throw new CliInputError(`Handlers module \`${file}\` exports \`handlers\` that are not an object of name -> function`);
  }
  const entries = Object.entries(source).filter(([name, value]) => name !== 'default' && typeof value === 'function');
  if (entries.length === 0) {
    throw new CliInputError(
      `Handlers module \`${file}\` exports no handlers: expected named functions (\`export async function render(ctx, frame) { ... }\`) or \`export const handlers = { render }\``,
    );
  }
  return new Map(entries as Array<[string, TaskFunction]>);
}
