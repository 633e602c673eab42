import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Job, JobState } from '../../core/job.ts';
import type { Handler } from '../../worker/worker.ts';
import { integerOption, stringOption, tagList } from '../args.ts';
import type { Command } from '../command.ts';
import { UsageError } from '../exit-codes.ts';
import { firstLine } from '../format.ts';
import { openClient } from '../open-client.ts';
import { note, printJson } from '../output.ts';
import { waitForStop } from '../signals.ts';

/** `spool work <queue> <module>`: a worker running a handler module, until a signal. */
export const work: Command = {
  name: 'work',
  summary: 'run a handler module on the jobs of a queue',
  usage: ['work <queue> <handler-module> [--concurrency <n>] [--shutdown-timeout <ms>]'],
  help: `Imports <handler-module> (a path relative to the working directory; .ts or .js) and runs its
default export for each job of <queue>:

  export default async function handle(job, { signal }) { ...; return result; }

What the handler returns is stored as the job's result; a throw fails the attempt (it is
retried with backoff, or dead after its last attempt). On a store, maintenance runs in this
process too. With --url, the worker takes its jobs from that broker over its WebSocket
protocol (with --token), and reconnects by itself if the connection drops.

Options:
  --concurrency <n>         handlers running at once (default 1)
  --shutdown-timeout <ms>   how long a graceful stop waits for running handlers before
                            giving their jobs back (default 30000)
  --tags <tags>             resource tags this worker offers, comma-separated (e.g.
                            gpu,region:eu): it also takes jobs added with --requires
                            among them (default: none, only jobs without --requires)

Output (stderr): one line when it starts, one per failed attempt, and a summary when it stops.
With --json, the summary is printed to stdout as {"queue","completed","failed"}; whatever
the handler prints goes to stdout too.
The first SIGINT/SIGTERM stops taking jobs, waits for running ones and exits 0; a second
one exits at once (130), and the jobs it was running run again after their leases expire.`,
  options: {
    concurrency: { type: 'string' },
    'shutdown-timeout': { type: 'string' },
    tags: { type: 'string' },
  },
  positionals: { min: 2, max: 2 },
  longRunning: true,
  remote: true,
  async run(ctx) {
    const [queue, modulePath] = ctx.args as [string, string];
    const concurrency = integerOption(ctx.options, 'concurrency');
    const shutdownTimeoutMs = integerOption(ctx.options, 'shutdown-timeout');
    const tagText = stringOption(ctx.options, 'tags');
    const tags = tagText === undefined ? undefined : tagList(tagText);
    const handler = await loadHandler(modulePath);
    const stop = waitForStop();
    try {
      const { client: spool, location } = await openClient(ctx.target, 'spool work');
      let completed = 0;
      let failed = 0;
      let worker;
      try {
        worker = spool.work(queue, handler, { concurrency, shutdownTimeoutMs, ...(tags ? { tags } : {}) });
      } catch (err) {
        await spool.close();
        throw err;
      }
      worker.on('completed', () => completed++);
      worker.on('failed', (job: Job, err: unknown, state: JobState) => {
        failed++;
        const message = firstLine(err instanceof Error ? `${err.name}: ${err.message}` : String(err));
        note(`job ${job.id} failed (attempt ${job.attempt}/${job.maxAttempts}, now ${state}): ${message}`);
      });
      worker.on('error', (err: unknown) => note(`spool work: ${(err as Error)?.message ?? String(err)}`));
      note(`spool work: ${queue} from ${location}, concurrency ${worker.concurrency}${worker.tags.length > 0 ? `, tags ${worker.tags.join(',')}` : ''}, handler ${resolve(modulePath)}. Stop with Ctrl+C.`);
      const signal = await stop.received;
      note(`spool work: ${signal}, finishing ${worker.running} running job(s)`);
      await worker.close();
      await spool.close();
      if (ctx.json) printJson({ queue, completed, failed });
      note(`spool work: stopped; ${completed} completed, ${failed} failed`);
    } finally {
      stop.dispose();
    }
  },
};

/**
 * Imports the handler module and returns its default export.
 * @throws UsageError when the file is missing or exports no default function.
 */
async function loadHandler(modulePath: string): Promise<Handler> {
  const file = resolve(modulePath);
  if (!existsSync(file)) throw new UsageError(`handler module ${file} does not exist`);
  let mod: { default?: unknown };
  try {
    mod = (await import(pathToFileURL(file).href)) as { default?: unknown };
  } catch (err) {
    throw new Error(`cannot load handler module ${file}: ${(err as Error)?.message ?? String(err)}`, { cause: err });
  }
  if (typeof mod.default !== 'function') {
    throw new UsageError(`handler module ${file} must export a default function (job, { signal }) => result; it exports ${typeof mod.default === 'undefined' ? 'no default' : `a default ${typeof mod.default}`}`);
  }
  return mod.default as Handler;
}
