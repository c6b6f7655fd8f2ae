/**
 * What crosses the thread boundary between the pool executor and the worker
 * entry: the attempt to run, progress messages, and the result envelope.
 * Everything is plain data: errors travel as SerializedError so that name,
 * message, code, stack and cause survive (workerpool's own error transport
 * drops classes and nested properties).
 */

/** The one method the worker entry exposes (not `run`: that name is workerpool's own for `exec(fn)`). */
export const RUN_METHOD = 'taskchart.run';

export interface WorkerAttempt {
  readonly taskId: string;
  readonly name: string;
  readonly attempt: number;
  /** A file URL (href) of the module to import, or undefined for an inline `fn`. */
  readonly module: string | undefined;
  readonly exportName: string;
  /** Source text of a self-contained inline `fn`. */
  readonly source: string | undefined;
  readonly args: readonly unknown[];
}

export interface ProgressMessage {
  readonly kind: 'taskchart.progress';
  readonly taskId: string;
  readonly attempt: number;
  readonly progress: number;
  readonly message: string | undefined;
}

export type ResultEnvelope = { readonly ok: true; readonly value: unknown } | { readonly ok: false; readonly error: SerializedError };

export interface SerializedError {
  readonly name: string;
  readonly message: string;
  readonly code?: string | number;
  readonly stack?: string;
  readonly cause?: SerializedError;
  /** Other own properties with primitive values (e.g. `errno`, `path`). */
  readonly props?: Record<string, string | number | boolean | null>;
}

export function isProgressMessage(value: unknown): value is ProgressMessage {
  return typeof value === 'object' && value !== null && (value as { kind?: unknown }).kind === 'taskchart.progress';
}

export function serializeError(error: unknown, depth = 0): SerializedError {
  if (!(error instanceof Error)) {
    return { name: 'Error', message: `Non-error value thrown: ${safeString(error)}` };
  }
  const props: Record<string, string | number | boolean | null> = {};
  for (const key of Object.keys(error)) {
    const value = (error as unknown as Record<string, unknown>)[key];
    if (key === 'code' || key === 'cause') continue;
    if (value === null || ['string', 'number', 'boolean'].includes(typeof value)) props[key] = value as string | number | boolean | null;
  }
  const code = (error as { code?: unknown }).code;
  return {
    name: error.name,
    message: error.message,
    ...((typeof code === 'string' || typeof code === 'number') && { code }),
    ...(error.stack !== undefined && { stack: error.stack }),
    ...(error.cause !== undefined && depth < 5 && { cause: serializeError(error.cause, depth + 1) }),
    ...(Object.keys(props).length > 0 && { props }),
  };
}

/** Rebuilds an Error on this side, with the same name, message, code, stack and cause. */
export function deserializeError(serialized: SerializedError): Error {
  const error = new Error(serialized.message, serialized.cause ? { cause: deserializeError(serialized.cause) } : undefined);
  error.name = serialized.name;
  if (serialized.stack !== undefined) error.stack = serialized.stack;
  if (serialized.code !== undefined) (error as Error & { code?: unknown }).code = serialized.code;
  for (const [key, value] of Object.entries(serialized.props ?? {})) {
    if (!(key in error)) (error as unknown as Record<string, unknown>)[key] = value;
  }
  return error;
}

function safeString(value: unknown): string {
  try {
    return typeof value === 'string' ? value : JSON.stringify(value) ?? String(value);
  } catch {
    return Object.prototype.toString.call(value);
  }
}
