/**
 * Boundary validation helpers: one message template for every bad input,
 * ``Expected `timeout` to be a finite number > 0, got `-5` (number)``.
 */
import { InvalidOptionError, TaskChartError } from './errors.js';

/** Renders any value for an error message without ever throwing. */
export function describeValue(value: unknown): string {
  let type: string = typeof value;
  let text: string;
  try {
    if (value === null) type = 'null';
    else if (Array.isArray(value)) type = 'array';
    if (typeof value === 'string') text = value.length > 60 ? `${value.slice(0, 57)}...` : value;
    else if (typeof value === 'function') text = value.name ? `[function ${value.name}]` : '[function]';
    else if (typeof value === 'symbol' || typeof value === 'bigint') text = value.toString();
    else if (typeof value === 'object' && value !== null) {
      const json = JSON.stringify(value);
      text = json === undefined ? Object.prototype.toString.call(value) : json.length > 60 ? `${json.slice(0, 57)}...` : json;
    } else text = String(value);
  } catch {
    text = type === 'object' || type === 'array' ? '[unreadable object]' : '[unreadable]';
  }
  return `\`${text}\` (${type})`;
}

/** Builds the one-template InvalidOptionError. */
export function invalid(field: string, expected: string, value: unknown): InvalidOptionError {
  return new InvalidOptionError(field, `Expected \`${field}\` to be ${expected}, got ${describeValue(value)}`);
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  try {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
    const proto = Object.getPrototypeOf(value) as unknown;
    return proto === Object.prototype || proto === null;
  } catch {
    return false; // a revoked proxy, or a proxy whose traps throw
  }
}

/**
 * The own enumerable fields of a caller's object, each read once, with every
 * key checked against `allowed` (`'any'`: a map of names, every key allowed). A key that cannot be read (a throwing
 * getter or proxy trap) is refused naming it: `prefix` + key.
 */
export function ownFields(
  field: string,
  value: Record<string, unknown>,
  allowed: ReadonlySet<string> | 'any',
  prefix = '',
): Record<string, unknown> {
  let keys: string[];
  try {
    keys = Object.keys(value);
  } catch (error) {
    throw unreadable(field, error);
  }
  if (allowed !== 'any') checkKeysOf(field, keys, allowed);
  const fields: Record<string, unknown> = {};
  for (const key of keys) {
    try {
      fields[key] = value[key];
    } catch (error) {
      throw unreadable(`${prefix}${key}`, error);
    }
  }
  return fields;
}

function unreadable(field: string, error: unknown): InvalidOptionError {
  const reason = error instanceof Error ? error.message : describeValue(error);
  return new InvalidOptionError(field, `Could not read \`${field}\`: reading it threw (${reason})`, { cause: error });
}

/**
 * Runs a boundary validation; an exception that is not already a TaskChartError
 * (a getter or proxy trap of the caller's object threw while it was read)
 * becomes an InvalidOptionError naming `field`.
 */
export function readingInput<T>(field: string, read: () => T): T {
  try {
    return read();
  } catch (error) {
    if (error instanceof TaskChartError) throw error;
    throw unreadable(field, error);
  }
}

/** Own enumerable string keys of a plain object, refusing any not in `allowed`. */
export function checkKeys(field: string, value: Record<string, unknown>, allowed: ReadonlySet<string>): void {
  checkKeysOf(field, Object.keys(value), allowed);
}

function checkKeysOf(field: string, keys: readonly string[], allowed: ReadonlySet<string>): void {
  for (const key of keys) {
    if (!allowed.has(key)) {
      throw new InvalidOptionError(
        `${field}.${key}`,
        `Unknown field \`${key}\` in \`${field}\`; expected one of ${[...allowed].map((k) => `\`${k}\``).join(', ')}`,
      );
    }
  }
}

export function optionalInteger(field: string, value: unknown, min: number, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min) {
    throw invalid(field, `an integer >= ${min}`, value);
  }
  return value;
}

export function optionalNumber(
  field: string,
  value: unknown,
  check: { min: number; exclusive?: boolean; max?: number; allowInfinity?: boolean },
): number | undefined {
  if (value === undefined) return undefined;
  const finiteOk = typeof value === 'number' && (Number.isFinite(value) || (check.allowInfinity === true && value === Infinity));
  const aboveMin = finiteOk && (check.exclusive ? value > check.min : value >= check.min);
  const belowMax = check.max === undefined || (finiteOk && value <= check.max);
  if (!finiteOk || !aboveMin || !belowMax) {
    const range = `${check.exclusive ? '>' : '>='} ${check.min}${check.max === undefined ? '' : ` and <= ${check.max}`}`;
    throw invalid(field, `a finite number ${range}`, value);
  }
  return value;
}

export function optionalString(field: string, value: unknown): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || value.length === 0) throw invalid(field, 'a non-empty string', value);
  return value;
}

export function optionalFunction<F>(field: string, value: unknown): F | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'function') throw invalid(field, 'a function', value);
  return value as F;
}
