/**
 * What the fault runs and the soak share to end a run: drain the queue and read every job of it
 * back from the store (the checker's final read), and the throwaway PostgreSQL they run on.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { QUEUE, type Deployment } from './deployments.ts';
import type { StoredJob } from './events.ts';
import { sleep } from './strikes.ts';

type Reader = Awaited<ReturnType<Deployment['reader']>>;

/** Every job of the queue as the checker needs it (id, caller id from the payload, state, lease token), page by page. */
export async function readAll(reader: Reader): Promise<StoredJob[]> {
  const jobs: StoredJob[] = [];
  let after: string | undefined;
  for (;;) {
    const page = await reader.listPage(QUEUE, { ...(after ? { after } : {}), limit: 1000 });
    for (const j of page.jobs) {
      const callerId = (j.payload as { callerId?: unknown } | null)?.callerId;
      jobs.push({ id: j.id, callerId: typeof callerId === 'string' ? callerId : null, state: j.state, leaseToken: j.leaseToken });
    }
    if (page.next === null) return jobs;
    after = page.next;
  }
}

/**
 * Stops the producers, waits (asking every 100 ms, at most `waitMs`) until nothing is ready,
 * scheduled or active, stops the workers (their last events read), and reads every job.
 */
export async function drainAndRead(d: Deployment, reader: Reader, waitMs: number): Promise<StoredJob[]> {
  await Promise.all(d.producers.map((p) => p.stop()));
  const queue = reader.queue(QUEUE);
  const deadline = Date.now() + waitMs;
  for (;;) {
    const counts = (await queue.stats()).counts;
    if (counts.ready + counts.active + counts.scheduled === 0) break;
    if (Date.now() > deadline) throw new Error(`timed out after ${waitMs} ms waiting for the queue to drain (${JSON.stringify(counts)})`);
    await sleep(100);
  }
  await Promise.all(d.workers.map((w) => w.stop()));
  return readAll(reader);
}

/**
 * The PostgreSQL the runs share: SPOOL_TEST_PG_URL, else a throwaway one started as the tests do
 * (test/support/start-postgres.ts); `stop` ends the latter.
 */
export async function sharedPostgres(): Promise<{ url: string; stop(): Promise<void> }> {
  if (process.env.SPOOL_TEST_PG_URL) return { url: process.env.SPOOL_TEST_PG_URL, stop: async () => {} };
  const child: ChildProcess = spawn(process.execPath, [join(import.meta.dirname, '..', 'test', 'support', 'start-postgres.ts')], { stdio: ['ignore', 'pipe', 'inherit'] });
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
      out += chunk;
      if (out.includes('\n')) resolve(out.split('\n')[0]!.trim());
    });
    child.once('exit', (code) => reject(new Error(`PostgreSQL did not start (exit code ${code}); set SPOOL_TEST_PG_URL`)));
  });
  return {
    url,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    },
  };
}
