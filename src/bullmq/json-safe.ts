/**
 * Remote task arguments and results travel as JSON (BullMQ's job data and
 * return values are JSON strings), so they must survive
 * `JSON.parse(JSON.stringify(value))` unchanged. This module finds the first
 * value that would not, and says where it is: `args[0].when is a Date (JSON
 * turns it into a string)`.
 */

/**
 * Returns a description of the first value under `path` that JSON would
 * drop or change, or undefined when `value` is JSON-safe: null, booleans,
 * strings, finite numbers, arrays and plain objects of those, without cycles.
 */
export function findNonJson(value: unknown, path: string): string | undefined {
  return walk(value, path, new Set());
}

function walk(value: unknown, where: string, ancestors: Set<object>): string | undefined {
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return undefined;
  if (typeof value === 'number') return Number.isFinite(value) ? undefined : `${where} is ${value} (JSON turns it into null)`;
  if (typeof value === 'undefined') return `${where} is undefined (JSON drops it, or turns it into null in an array)`;
  if (typeof value !== 'object') return `${where} is a ${typeof value}`;
  if (ancestors.has(value)) return `${where} is a cycle back to an enclosing object`;
  const prototype = Object.getPrototypeOf(value) as unknown;
  if (!Array.isArray(value) && prototype !== Object.prototype && prototype !== null) {
    const kind = Object.prototype.toString.call(value).slice(8, -1);
    return `${where} is a ${kind === 'Object' ? ((value as object).constructor?.name ?? 'class instance') : kind} (JSON keeps only plain objects and arrays)`;
  }
  ancestors.add(value);
  try {
    const entries: Array<[string, unknown]> = Array.isArray(value)
      ? value.map((item, i) => [`${where}[${i}]`, item])
      : Object.entries(value).map(([key, item]) => [
          `${where}${/^[A-Za-z_$][\w$]*$/.test(key) ? `.${key}` : `[${JSON.stringify(key)}]`}`,
          item,
        ]);
    for (const [path, item] of entries) {
      const problem = walk(item, path, ancestors);
      if (problem !== undefined) return problem;
    }
    return undefined;
  } finally {
    ancestors.delete(value);
  }
}
