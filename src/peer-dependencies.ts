/**
 * The entry points that need optional peer dependencies (taskchart/bullmq, taskchart/otel) load the modules that
 * import them dynamically, and turn Node's bare "Cannot find package" into a MissingDependencyError naming what
 * to install.
 */
import { MissingDependencyError } from './errors.js';

/**
 * When loading `entryPoint` failed because some of `peers` (name to version range) cannot be found: the error
 * that says which ones to install. Each peer is tried on its own, so that only the missing ones are named.
 */
export async function missingPeers(
  entryPoint: string,
  peers: Readonly<Record<string, string>>,
  error: unknown,
): Promise<MissingDependencyError | undefined> {
  if ((error as { code?: unknown } | null)?.code !== 'ERR_MODULE_NOT_FOUND') return undefined;
  const missing: Record<string, string> = {};
  for (const [name, range] of Object.entries(peers)) {
    const found = await import(name).then(
      () => true,
      (probe: unknown) => (probe as { code?: unknown } | null)?.code !== 'ERR_MODULE_NOT_FOUND',
    );
    if (!found) missing[name] = range;
  }
  return Object.keys(missing).length === 0 ? undefined : new MissingDependencyError(entryPoint, missing, { cause: error });
}
