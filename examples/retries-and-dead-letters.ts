// Retries with backoff, an error that skips retries, and redriving a dead job.
// Run: npm run example -- retries-and-dead-letters
import { Spool, UnrecoverableError } from '../src/index.ts';

const spool = await Spool.open({ store: 'memory' });
const charges = spool.queue<{ amount: number }>('charges');
await charges.configure({ maxAttempts: 3, backoff: { type: 'exponential', delayMs: 50, maxDelayMs: 1000 } });

let flaky = 0;
const worker = charges.work(async (job) => {
  if (job.payload.amount < 0) throw new UnrecoverableError('negative amount: retrying cannot help');
  if (flaky++ < 2) throw new Error('payment gateway timed out');
  return { charged: job.payload.amount };
});
worker.on('failed', (job, err, state) => console.log(`attempt ${job.attempt} of ${job.payload.amount} failed (${err.message}), now ${state}`));
// Both jobs are finished once one has completed and the other is dead.
let finished = 0;
const bothFinished = new Promise<void>((resolve) => {
  const one = () => ++finished === 2 && resolve();
  worker.on('completed', one);
  worker.on('failed', (_job, _err, state) => state === 'dead' && one());
});

const good = await charges.add({ amount: 42 });
const bad = await charges.add({ amount: -1 });
await bothFinished;

const done = await spool.get(good.id);
console.log(done.state, done.history.map((h) => h.outcome)); // completed [ 'failed', 'failed', 'completed' ]
const dead = await spool.get(bad.id);
console.log(dead.state, dead.deadReason); // dead unrecoverable

await spool.retry(bad.id); // redrive after fixing the cause: fresh attempts
await spool.close();
