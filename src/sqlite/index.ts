/**
 * taskchart/sqlite: the durable task store in an SQLite file, for
 * `new TaskEngine({ store })`. Needs the optional peer dependency better-sqlite3 12.
 */
export { SqliteStore } from './sqlite-store.js';
export type { SqliteStoreOptions, SqliteSynchronous } from './options.js';
