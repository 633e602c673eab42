// The README's example, without a mail service: add jobs, process them, shut down gracefully.
// Run: npm run example -- quick-start
import { setTimeout } from 'node:timers/promises';
import { Spool } from '../src/index.ts';

const spool = await Spool.open({ store: 'memory' }); // use the default ./spool-data in real life
const emails = spool.queue<{ to: string }>('emails');

await emails.add({ to: 'ada@example.com' });
await emails.add({ to: 'grace@example.com' }, { priority: 10 });
await emails.add({ to: 'later@example.com' }, { delayMs: 200 });

const worker = emails.work(async (job, { signal }) => {
  console.log(`attempt ${job.attempt}: sending to ${job.payload.to}`);
  await setTimeout(10, undefined, { signal }); // stops early if the lease is lost
  return { sentAt: Date.now() };
}, { concurrency: 4 });

// The worker's events tell when each job is done: wait for the three, delayed one included.
let completed = 0;
await new Promise<void>((resolve) => worker.on('completed', () => ++completed === 3 && resolve()));
console.log(await emails.stats());
await worker.close();
await spool.close();
