// The README's example: add jobs, process them, shut down gracefully.
// Run: node examples/quick-start.ts
import { Spool } from '../src/index.ts';

const spool = await Spool.open({ store: 'memory' }); // use the default ./spool-data in real life
const emails = spool.queue<{ to: string }>('emails');

await emails.add({ to: 'ada@example.com' });
await emails.add({ to: 'grace@example.com' }, { priority: 10 });
await emails.add({ to: 'later@example.com' }, { delayMs: 200 });

const worker = emails.work(async (job, { signal }) => {
  console.log(`attempt ${job.attempt}: sending to ${job.payload.to}`);
  await new Promise((resolve) => setTimeout(resolve, 10, { signal }));
  return { sentAt: Date.now() };
}, { concurrency: 4 });

await new Promise((resolve) => setTimeout(resolve, 500));
console.log(await emails.stats());
await worker.close();
await spool.close();
