/**
 * The SQLite store's lease epoch (docs/reliability.md, "Claims without a sync of their own"),
 * appended to MIGRATIONS in migrations.ts. Never edit a released migration: add the next number.
 */
import type { Migration } from './migrations.ts';

export const LEASE_MIGRATIONS: readonly Migration[] = [
  {
    version: 25,
    name: 'lease epoch',
    sql: `
      -- How many times the file has been opened. Each open takes the next number, synced before
      -- its first claim, and every token it issues is above that number × 2^24 (leases.ts): a
      -- claim whose commit an OS crash or power loss undid can never see its token issued again.
      CREATE TABLE lease_epoch (
        id     INTEGER PRIMARY KEY CHECK (id = 1),
        opens  INTEGER NOT NULL
      );
      INSERT INTO lease_epoch (id, opens) VALUES (1, 0);
    `,
  },
];
