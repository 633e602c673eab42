import { scratchDir } from '../../../test/support/scratch.ts';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { runDriverConformance, type DriverFactory } from '../conformance/index.ts';
import { LATEST_SCHEMA_VERSION } from './migrations.ts';
import { SqliteStore } from './sqlite-store.ts';

const dir = scratchDir('spool-driver-');
let n = 0;

/** The version SQLite keeps in `PRAGMA user_version`, read and written past the store. */
const userVersion = (path: string, set?: number): number => {
  const db = new DatabaseSync(path);
  try {
    if (set !== undefined) db.exec(`PRAGMA user_version = ${set}`);
    return (db.prepare('PRAGMA user_version').get() as { user_version: number }).user_version;
  } finally {
    db.close();
  }
};

/** Faults shared by both factories: a directory is no database; a size cap fills up as a full disk does. */
const faults = {
  unreachable: () => new SqliteStore({ path: dir }),
  full: () => new SqliteStore({ path: join(dir, `full${n++}.db`), maxDatabaseBytes: 256 * 1024 }), // room above the empty schema (some 41 pages of 4 KiB)
} satisfies Partial<DriverFactory>;

const file: DriverFactory = {
  ...faults,
  create: () => {
    const path = join(dir, `t${n++}.db`);
    return {
      shared: true,
      open: () => new SqliteStore({ path }),
      schema: { latest: LATEST_SCHEMA_VERSION, read: () => userVersion(path), write: (v) => void userVersion(path, v) },
    };
  },
};

// Each open of ':memory:' is a database of its own: nothing to share, no file to probe.
const memory: DriverFactory = { ...faults, create: () => ({ shared: false, open: () => new SqliteStore({ path: ':memory:' }) }) };

runDriverConformance('sqlite file', file);
runDriverConformance('sqlite memory', memory);
