// Add a job inside your own PostgreSQL transaction with node-postgres (`pg`): the job
// exists if and only if the transaction commits. Run: DATABASE_URL=postgres://… npm run example -- transactional-enqueue-pg
import pg from 'pg';
import { Spool } from '../src/index.ts';

const url = process.env.DATABASE_URL;
if (!url) throw new Error('set DATABASE_URL=postgres://user:password@host/db');
const schema = `example_pg_${process.pid}`;

const pool = new pg.Pool({ connectionString: url });
await pool.query(`CREATE SCHEMA IF NOT EXISTS ${schema}; CREATE TABLE IF NOT EXISTS ${schema}.signups (id serial PRIMARY KEY, email text NOT NULL)`);
const spool = await Spool.open({ store: url, schema });
const welcome = spool.queue<{ signupId: number }>('welcome-emails');

async function signUp(email: string, fail: boolean): Promise<void> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    const { rows } = await client.query(`INSERT INTO ${schema}.signups (email) VALUES ($1) RETURNING id`, [email]);
    await welcome.add({ signupId: rows[0].id }, { tx: client }); // same client, same transaction
    if (fail) throw new Error('email address is on the block list');
    await client.query('COMMIT');
  } catch (err) {
    await client.query('ROLLBACK');
    console.log(`rolled back: ${(err as Error).message}`);
  } finally {
    client.release();
  }
}

await signUp('ada@example.com', false);
await signUp('spam@example.com', true);

const { counts } = await welcome.stats();
console.log(`welcome jobs: ${counts.ready} (one per committed signup)`);
if (counts.ready !== 1) throw new Error(`expected exactly one job, found ${counts.ready}`);

await spool.close();
await pool.query(`DROP SCHEMA ${schema} CASCADE`);
await pool.end();
