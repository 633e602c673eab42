// Add a job inside your own PostgreSQL transaction (postgres.js): the job exists
// if and only if the transaction commits. Run: DATABASE_URL=postgres://… npm run example -- transactional-enqueue-postgres
import postgres from 'postgres';
import { Spool } from '../src/index.ts';

const url = process.env.DATABASE_URL;
if (!url) throw new Error('set DATABASE_URL=postgres://user:password@host/db');
const schema = `example_${process.pid}`; // a fresh schema per run keeps the example repeatable

const sql = postgres(url, { onnotice: () => {} });
await sql.unsafe(`CREATE SCHEMA IF NOT EXISTS ${schema}; CREATE TABLE IF NOT EXISTS ${schema}.orders (id serial PRIMARY KEY, item text NOT NULL)`);
const spool = await Spool.open({ store: url, schema });
const emails = spool.queue<{ orderId: number }>('order-emails');

// Committed: the order and its confirmation email exist together.
await sql.begin(async (tx) => {
  const [order] = await tx.unsafe(`INSERT INTO ${schema}.orders (item) VALUES ('a book') RETURNING id`);
  await emails.add({ orderId: order!.id as number }, { tx });
});

// Rolled back: neither the order nor its email job exists.
await sql
  .begin(async (tx) => {
    const [order] = await tx.unsafe(`INSERT INTO ${schema}.orders (item) VALUES ('a lamp') RETURNING id`);
    await emails.add({ orderId: order!.id as number }, { tx });
    throw new Error('payment declined');
  })
  .catch((err: Error) => console.log(`rolled back: ${err.message}`));

const { counts } = await emails.stats();
console.log(`email jobs: ${counts.ready} (one per committed order)`);
if (counts.ready !== 1) throw new Error(`expected exactly one job, found ${counts.ready}`);

await spool.close();
await sql.unsafe(`DROP SCHEMA ${schema} CASCADE`);
await sql.end();
