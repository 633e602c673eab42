import { checkStoreSpec } from '../../engine/open-store.ts';
import { PG_LATEST_SCHEMA_VERSION } from '../../store/postgres/migrations.ts';
import { openPostgresStore } from '../../store/postgres/postgres-store.ts';
import type { Command } from '../command.ts';
import { withSpool, pgSchema } from '../open-spool.ts';
import { printResult } from '../output.ts';

/** `spool migrate`: bring the store's schema up to this version of Spool. */
export const migrate: Command = {
  name: 'migrate',
  summary: "bring the store's schema up to date (PostgreSQL: under an advisory lock)",
  usage: ['migrate [--create]'],
  help: `Applies the numbered migrations this Spool knows and the store has not had yet.
PostgreSQL: runs them in one transaction under an advisory lock, so several processes
starting at once migrate once; Spool also migrates at start-up, so this command is for
deploy pipelines that migrate before rolling out. SQLite migrates whenever it is opened.
A schema written by a newer Spool is refused (exit code 5).

PostgreSQL: creates the schema (--schema, default spool) if it is missing; the database
must exist. SQLite: a store that does not exist is refused (exit code 5), so a mistyped
--store is not taken for a new, empty store; --create makes it.

Output, PostgreSQL: "schema <name> at version N (was M; …)"; with --json {"store","schema","from","to"}.
SQLite: "<file>: migrated"; with --json {"store"}.`,
  options: { create: { type: 'boolean' } },
  positionals: { min: 0, max: 0 },
  async run(ctx) {
    checkStoreSpec(ctx.store);
    if (/^(postgres|postgresql):\/\//.test(ctx.store)) {
      const { schema = 'spool' } = pgSchema();
      const store = await openPostgresStore({ url: ctx.store, schema, notify: false, poolSize: 1 });
      const from = store.migratedFrom;
      const to = await store.schemaVersion();
      await store.close();
      printResult(ctx.json, { store: store.location, schema, from, to }, () => `schema ${schema} at version ${to} (was ${from}; the latest this Spool knows is ${PG_LATEST_SCHEMA_VERSION})`);
      return;
    }
    const location = await withSpool(ctx.store, ctx.options.create === true, async (spool) => spool.store.location, 'or pass --create to make a new store there');
    printResult(ctx.json, { store: location }, () => `${location}: migrated (SQLite migrates whenever it is opened)`);
  },
};
