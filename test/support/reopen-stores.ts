import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openPostgresStore } from '../../src/store/postgres/postgres-store.ts';
import { openSqliteStore } from '../../src/store/sqlite/sqlite-store.ts';
import type { Store } from '../../src/store/store.ts';
import { testPgUrl, uniqueSchema } from './pg-url.ts';

/** Data a restart test opens again and again: each `open()` is a new store on it, as a restarted process would open. */
export interface ReopenableStore {
  open: () => Promise<Store> | Store;
  cleanup: () => void;
}

/** For the restart tests: by name, how to make fresh data on a SQLite file and on a PostgreSQL schema. */
export const reopenableStores: Record<'sqlite file' | 'postgres', () => ReopenableStore> = {
  'sqlite file': () => {
    const dir = mkdtempSync(join(tmpdir(), 'spool-restart-'));
    return { open: () => openSqliteStore({ path: join(dir, 'spool.db') }), cleanup: () => rmSync(dir, { recursive: true, force: true }) };
  },
  postgres: () => {
    const schema = uniqueSchema();
    return { open: () => openPostgresStore({ url: testPgUrl(), schema, poolSize: 2 }), cleanup: () => {} };
  },
};
