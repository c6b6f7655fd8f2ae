/**
 * The store files this process holds open, by device and inode. SQLite's lock
 * refuses a second store too, but this answers before touching the file, and
 * keeps {@link checkHeader} from closing a descriptor of a file this process
 * holds (which would drop the process's POSIX lock on it).
 */
import type { BigIntStats } from 'node:fs';

const held = new Set<string>();

/** The identity of a file, whatever path names it. */
export function fileKey(stats: BigIntStats): string {
  return `${stats.dev}:${stats.ino}`;
}

/** Whether a store of this process holds the file. */
export function isHeld(key: string): boolean {
  return held.has(key);
}

/** Records that a store of this process holds the file, until {@link release}. */
export function hold(key: string): void {
  held.add(key);
}

export function release(key: string): void {
  held.delete(key);
}
