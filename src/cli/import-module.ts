/** Importing a module named on the command line (a graph module, a handlers module). */
import { existsSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { formatError as describe } from './format.js';
import { CliInputError } from './input-error.js';

/**
 * Imports `file` (relative to the working directory) and returns its exports.
 * @throws CliInputError naming `kind` ("graph module", "handlers module") when it is missing or fails to load.
 */
export async function importModule(file: string, kind: string): Promise<Record<string, unknown>> {
  const path = resolve(file);
  if (!existsSync(path) || !statSync(path).isFile()) throw new CliInputError(`Cannot find ${kind} \`${file}\``);
  try {
    return (await import(pathToFileURL(path).href)) as Record<string, unknown>;
  } catch (error) {
    throw new CliInputError(`Cannot load ${kind} \`${file}\`: ${describe(error)}`, { cause: error });
  }
}
