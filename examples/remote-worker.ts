// A broker embedded in this process, and a producer and a worker that reach it over the
// network with Spool.connect: the same queue and worker API as Spool.open.
// Run: npm run example -- remote-worker
import { Spool } from '../src/index.ts';
import { Authenticator, createToken, startBroker } from '../src/server/index.ts';

const engine = await Spool.open({ store: 'memory' }); // `spool serve` does this with a real store
const { token } = await createToken(engine.store, { name: 'example', scopes: ['publish:emails', 'consume:emails'] });
const broker = await startBroker(engine, { port: 0, auth: new Authenticator(engine.store, { mode: 'required' }) });
console.log(`broker on ${broker.wsUrl}`);

const spool = await Spool.connect(broker.wsUrl, { token }); // list several URLs to fail over between brokers
const emails = spool.queue<{ to: string }>('emails');
await emails.add({ to: 'ada@example.com' });
await emails.addMany([{ payload: { to: 'grace@example.com' } }, { payload: { to: 'alan@example.com' } }]);

let done = 0;
const finished = new Promise<void>((resolve) => {
  emails.work(async (job) => {
    console.log(`remote worker: attempt ${job.attempt}, sending to ${job.payload.to}`);
    if (++done === 3) resolve();
  }, { concurrency: 8 });
});
await finished;

await spool.close(); // waits for the last acks
console.log((await engine.stats('emails'))[0]!.counts);
await broker.close();
await engine.close();
