/** What the soak reads from outside its deployment: a process's RSS and open fds, and the store after the drain. */
import { readdirSync, readFileSync } from 'node:fs';
import { QUEUE, type Deployment } from './deployments.ts';
import type { StoredJob } from './events.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** /proc figures of one process; null once it is gone. */
export function sampleOf(pid: number): { rssKb: number; fds: number } | null {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const rss = /VmRSS:\s+(\d+)/.exec(status);
    if (!rss) return null; // a zombie has no RSS line
    return { rssKb: Number(rss[1]), fds: readdirSync(`/proc/${pid}/fd`).length };
  } catch {
    return null;
  }
}

/** Stops the producers, waits for the queue to drain, stops the workers (their last events read), reads every job. */
export async function drainAndRead(d: Deployment, waitMs: number): Promise<StoredJob[]> {
  for (const p of d.producers) await p.stop();
  const reader = await d.reader();
  const queue = reader.queue(QUEUE);
  const deadline = Date.now() + waitMs;
  for (;;) {
    const counts = (await queue.stats()).counts;
    if (counts.ready + counts.active + counts.scheduled === 0) break;
    if (Date.now() > deadline) throw new Error(`timed out waiting for the queue to drain (${JSON.stringify(counts)})`);
    await sleep(200);
  }
  for (const w of d.workers) await w.stop();
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
