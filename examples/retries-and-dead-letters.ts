// Retries with backoff, an error that skips retries, and redriving a dead job.
// Run: npm run example -- retries-and-dead-letters
import { Spool, UnrecoverableError } from '../src/index.ts';

const spool = await Spool.open({ store: 'memory' });
const charges = spool.queue<{ amount: number }>('charges');
await charges.configure({ maxAttempts: 3, backoff: { type: 'exponential', delayMs: 50, maxDelayMs: 1000 } });

let flaky = 0;
charges.work(async (job) => {
  if (job.payload.amount < 0) throw new UnrecoverableError('negative amount: retrying cannot help');
  if (flaky++ < 2) throw new Error('payment gateway timed out');
  return { charged: job.payload.amount };
});

const good = await charges.add({ amount: 42 });
const bad = await charges.add({ amount: -1 });
await new Promise((resolve) => setTimeout(resolve, 1000));

const done = await spool.get(good.id);
console.log(done.state, done.history.map((h) => h.outcome)); // completed [ 'failed', 'failed', 'completed' ]
const dead = await spool.get(bad.id);
console.log(dead.state, dead.deadReason); // dead unrecoverable

await spool.retry(bad.id); // redrive after fixing the cause: fresh attempts
await spool.close();
