/**
 * A look at a file's SQLite header with plain file reads, before SQLite opens
 * it: SQLite would roll back another application's hot journal or checkpoint
 * its WAL, and a refused file must be left byte for byte as it was.
 */
import { accessSync, closeSync, constants, openSync, readSync, type BigIntStats } from 'node:fs';
import { APPLICATION_ID, SCHEMA_VERSION, newerVersion, notAStore } from './schema.js';
import { cannotOpen } from './store-errors.js';

const HEADER_BYTES = 100;
const SQLITE_MAGIC = Buffer.from('SQLite format 3\0', 'latin1');

/**
 * Refuses at once a file that cannot be a taskchart store of a version this
 * code reads. What the header cannot tell (a blank database, or a store whose
 * newest pages are still in its WAL) is left to SQLite under the lock.
 * Must not run while this process holds the file: closing any descriptor of
 * a file drops the process's POSIX locks on it.
 */
export function checkHeader(path: string, stats: BigIntStats): void {
  if (!stats.isFile()) throw cannotOpen(path, 'expected a database file, found a directory or other non-regular file');
  checkWritable(path);
  if (stats.size === 0n) return;
  const header = readHeader(path);
  if (header.length < HEADER_BYTES || !header.subarray(0, SQLITE_MAGIC.length).equals(SQLITE_MAGIC)) {
    throw cannotOpen(
      path,
      `expected an SQLite database (a taskchart store), found a file that is not one (it starts with ${preview(header)}); it was left untouched`,
    );
  }
  const applicationId = header.readInt32BE(68);
  const version = header.readUInt32BE(60);
  const pageSize = header.readUInt16BE(16) === 1 ? 65_536 : header.readUInt16BE(16);
  // A table needs a page of its own: a blank database is one page.
  const hasTables = stats.size > BigInt(pageSize);
  if (applicationId === APPLICATION_ID) {
    if (version > SCHEMA_VERSION) throw newerVersion(path, version);
  } else if (applicationId !== 0 || hasTables) {
    throw notAStore(path, applicationId);
  }
}

function checkWritable(path: string): void {
  try {
    accessSync(path, constants.R_OK | constants.W_OK);
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    throw cannotOpen(
      path,
      `expected a file this process can read and write, but it cannot (${String(code)}); it was left untouched`,
      error,
    );
  }
}

function readHeader(path: string): Buffer {
  const header = Buffer.alloc(HEADER_BYTES);
  let fd: number | undefined;
  try {
    fd = openSync(path, 'r');
    const read = readSync(fd, header, 0, HEADER_BYTES, 0);
    return header.subarray(0, read);
  } catch (error) {
    throw cannotOpen(path, `could not read the file: ${(error as Error).message}`, error);
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

function preview(bytes: Buffer): string {
  const text = bytes.subarray(0, 16).toString('latin1');
  return JSON.stringify(text).replace(/[\u007f-\uffff]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}
