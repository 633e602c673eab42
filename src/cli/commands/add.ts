import { createReadStream, statSync } from 'node:fs';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import type { AddItem } from '../../api/contract.ts';
import { SpoolError } from '../../core/errors.ts';
import type { Job } from '../../core/job.ts';
import { LIMITS } from '../../core/limits.ts';
import { checkAddOptions, type AddOptions } from '../../core/add-options.ts';
import { durationOption, integerOption, stringOption, tagList } from '../args.ts';
import type { Command, CommandContext } from '../command.ts';
import { UsageError } from '../exit-codes.ts';
import { Progress } from '../format.ts';
import { runOperation, withOperations, type Call } from '../operation.ts';
import { note, printResult } from '../output.ts';

/** Jobs per `addJobs` call (one transaction) when adding from a file: at most addManyMax. */
export const ADD_FILE_BATCH_SIZE = Math.min(1000, LIMITS.addManyMax.default);

/**
 * A batch is also sent once its lines reach this many bytes, well under the broker's
 * request body limit (bodyMaxBytes, 16 MiB by default), so large payloads travel in smaller batches.
 */
export const ADD_FILE_BATCH_MAX_BYTES = 4 * 1024 * 1024;

/** `spool add`: one job from a JSON argument, or many from an NDJSON file. */
export const add: Command = {
  name: 'add',
  summary: 'add a job, or many from an NDJSON file',
  usage: ['add <queue> <json> [options]', 'add <queue> --file <jobs.ndjson | -> [--batch <n>] [options]'],
  help: `Adds one job whose payload is <json>, or one job per line of an NDJSON file.

Options:
  --priority <n>       higher runs first (default 0; write a negative one as --priority=-5)
  --delay <ms>         run no sooner than this many milliseconds from now
  --name <s>           job name (default "default")
  --group <s>          the group (tenant, customer) of the job: spool jobs --group lists them
  --max-attempts <n>   attempts before the job is dead (default: the queue's setting)
  --timeout <ms>       longest one attempt may run; 0: no limit (default: the queue's timeoutMs)
  --ttl <duration>     time to live: a job not started within it of its add is never run but
                       dead (deadReason "expired"); ms, or with a unit: 90s, 15m, 12h, 7d
  --cost <ms>          the job's expected run time in ms (a positive number): a queue with
                       policy sjf serves cheaper jobs first (default: its learned estimate)
  --unique-key <s>     deduplicate: while a job of the queue with this key is scheduled, ready
                       or active, store nothing and print that job's id (a note on stderr says
                       it is a duplicate; exit code 0). Not with --file
  --unique-window <duration>
                       with --unique-key: the job holds its key this long after its add even
                       once finished (ms, or 90s, 15m, 12h, 7d; at most 30d). Default: only
                       while scheduled, ready or active
  --concurrency-key <s>
                       the key the queue's concurrencyLimit counts active jobs by (a tenant,
                       a customer): at most that many jobs of one key run at once
  --requires <tags>    resource tags a worker must carry to take the job, comma-separated
                       (e.g. gpu,region:eu): only a worker whose --tags include all of them
                       takes it (default: any worker)
  --file <path>        read payloads from a file, one JSON value per line; "-" reads stdin.
                       Every line is a payload (the options above apply to all of them);
                       blank lines are skipped. Jobs are written ${ADD_FILE_BATCH_SIZE} per transaction
                       (fewer when their lines pass ${ADD_FILE_BATCH_MAX_BYTES / 1024 / 1024} MiB).
                       A line that is not JSON stops the import with exit code 2: batches
                       already written stay written, and the message says how many.
  --batch <n>          with --file: jobs per transaction (default ${ADD_FILE_BATCH_SIZE}); a batch of more
                       than addManyMax jobs is refused: ${LIMITS.addManyMax.default} on a store, the broker's own through one

Output: the job id (with --json, the job; a duplicate has "duplicate": true). With --file: "added N jobs to <queue> in X s
(Y jobs/s)" (with --json, {"queue","added","seconds","jobsPerSecond"}), and a progress
line on stderr when stderr is a terminal.`,
  options: {
    priority: { type: 'string' },
    delay: { type: 'string' },
    name: { type: 'string' },
    group: { type: 'string' },
    'max-attempts': { type: 'string' },
    timeout: { type: 'string' },
    ttl: { type: 'string' },
    cost: { type: 'string' },
    'unique-key': { type: 'string' },
    'unique-window': { type: 'string' },
    'concurrency-key': { type: 'string' },
    requires: { type: 'string' },
    file: { type: 'string' },
    batch: { type: 'string' },
  },
  positionals: { min: 1, max: 2 },
  remote: true,
  async run(ctx) {
    const [queue, text] = ctx.args as [string, string | undefined];
    const file = stringOption(ctx.options, 'file');
    if (file !== undefined && text !== undefined) throw new UsageError('give a <json> payload or --file, not both');
    if (file === undefined && text === undefined) throw new UsageError('missing the job payload: spool add <queue> <json>, or --file <path>');
    const batch = integerOption(ctx.options, 'batch');
    if (batch !== undefined && file === undefined) throw new UsageError('--batch goes with --file');
    if (batch !== undefined && (batch < 1 || batch > LIMITS.addManyMax.max)) {
      throw new UsageError(`--batch must be from 1 to ${LIMITS.addManyMax.max} (got ${batch})`);
    }
    const options = addOptions(ctx);
    checkAddOptions(options, Date.now()); // fail on a bad flag before touching the store or reading the file
    if (file !== undefined && options.uniqueKey !== undefined) {
      throw new UsageError('--unique-key is for one job: with --file, every line would share it and all but the first would be duplicates');
    }
    if (file !== undefined) return addFromFile(ctx, queue, file, options, batch ?? ADD_FILE_BATCH_SIZE);
    const payload = parseJsonArgument(text!);
    const job = await runOperation<Job>(ctx.target, 'addJobs', { queue, payload, ...options });
    if (job.duplicate && !ctx.json) note(`duplicate: job ${job.id} (${job.state}) holds unique key ${JSON.stringify(options.uniqueKey)}; nothing was added`);
    printResult(ctx.json, job, () => job.id);
  },
};

function addOptions(ctx: CommandContext): AddOptions {
  const options: AddOptions = {};
  const priority = integerOption(ctx.options, 'priority');
  const delayMs = integerOption(ctx.options, 'delay');
  const maxAttempts = integerOption(ctx.options, 'max-attempts');
  const name = stringOption(ctx.options, 'name');
  const group = stringOption(ctx.options, 'group');
  const timeoutMs = integerOption(ctx.options, 'timeout');
  const ttlMs = durationOption(ctx.options, 'ttl');
  if (timeoutMs !== undefined) options.timeoutMs = timeoutMs;
  if (ttlMs !== undefined) options.ttlMs = ttlMs;
  if (priority !== undefined) options.priority = priority;
  if (delayMs !== undefined) options.delayMs = delayMs;
  if (maxAttempts !== undefined) options.maxAttempts = maxAttempts;
  if (name !== undefined) options.name = name;
  if (group !== undefined) options.group = group;
  const cost = stringOption(ctx.options, 'cost');
  if (cost !== undefined) {
    // A number as written (fractions allowed); checkAddOptions then refuses one that is not positive or over the limit.
    if (!/^\s*[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?\s*$/.test(cost)) throw new UsageError(`--cost must be a number of ms (got ${JSON.stringify(cost)})`);
    options.cost = Number(cost);
  }
  const uniqueKey = stringOption(ctx.options, 'unique-key');
  if (uniqueKey !== undefined) options.uniqueKey = uniqueKey;
  const uniqueWindowMs = durationOption(ctx.options, 'unique-window');
  if (uniqueWindowMs !== undefined) options.uniqueWindowMs = uniqueWindowMs;
  const concurrencyKey = stringOption(ctx.options, 'concurrency-key');
  if (concurrencyKey !== undefined) options.concurrencyKey = concurrencyKey;
  const requires = stringOption(ctx.options, 'requires');
  if (requires !== undefined) options.requires = tagList(requires);
  return options;
}

function parseJsonArgument(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new UsageError(`the payload is not valid JSON (${(err as Error).message}); quote it for the shell, e.g. '{"to":"a@example.com"}'`, { cause: err });
  }
}

async function addFromFile(ctx: CommandContext, queue: string, file: string, options: AddOptions, batchSize: number): Promise<void> {
  const fromStdin = file === '-';
  let totalBytes: number | null = null;
  if (!fromStdin) {
    try {
      totalBytes = statSync(file).size;
    } catch (err) {
      throw new UsageError(`cannot read ${file}: ${(err as Error).message}`, { cause: err });
    }
  }
  const source = fromStdin ? 'stdin' : file;
  const startedMs = performance.now();
  const added = await withOperations(ctx.target, { create: true }, async (call) => {
    const input: Readable = fromStdin ? process.stdin : createReadStream(file);
    const progress = new Progress(process.stderr, process.stderr.isTTY === true && !ctx.json);
    try {
      return await importLines(call, queue, input, source, options, batchSize, (count) =>
        progress.update(count, totalBytes ? (input as Readable & { bytesRead: number }).bytesRead / totalBytes : null),
      );
    } finally {
      progress.done();
      input.destroy();
    }
  });
  const seconds = (performance.now() - startedMs) / 1000;
  const jobsPerSecond = seconds > 0 ? Math.round(added / seconds) : added;
  printResult(ctx.json, { queue, added, seconds: Number(seconds.toFixed(3)), jobsPerSecond }, () =>
    `added ${added} jobs to ${queue} in ${seconds.toFixed(2)} s (${jobsPerSecond} jobs/s)`,
  );
}

/** Reads payload lines and adds them in batches (`addJobs` with `jobs`). Returns how many jobs were added. */
async function importLines(
  call: Call, queue: string, input: Readable, source: string, options: AddOptions, batchSize: number, onBatch: (added: number) => void,
): Promise<number> {
  let lineNo = 0;
  let added = 0;
  let writtenThroughLine = 0;
  let batch: AddItem[] = [];
  let batchLines: number[] = [];
  let batchBytes = 0;
  const soFar = (): string =>
    added === 0
      ? 'no jobs were added'
      : `${added} jobs were added (through line ${writtenThroughLine}); nothing from line ${writtenThroughLine + 1} on was added`;

  const flush = async (): Promise<void> => {
    try {
      await call('addJobs', { queue, jobs: batch });
    } catch (err) {
      if (err instanceof SpoolError) {
        // The engine names a bad item as `items[i]: …` (the input check as `jobs[i]…`); turn that into the line it came from.
        const m = /^(?:items|jobs)\[(\d+)\][:.]? ?/.exec(err.message);
        const line = m ? batchLines[Number(m[1])] : batchLines.length === 1 ? batchLines[0] : undefined;
        const where = line !== undefined ? `line ${line}` : `lines ${batchLines[0]}–${batchLines.at(-1)}`;
        err.message = `${source} ${where}: ${m ? err.message.slice(m[0].length) : err.message}; ${soFar()}`;
      }
      throw err;
    }
    added += batch.length;
    writtenThroughLine = batchLines.at(-1)!;
    batch = [];
    batchLines = [];
    batchBytes = 0;
    onBatch(added);
  };

  for await (const line of createInterface({ input, crlfDelay: Infinity })) {
    lineNo++;
    if (line.trim() === '') continue;
    let payload: unknown;
    try {
      payload = JSON.parse(line);
    } catch (err) {
      throw new UsageError(`${source} line ${lineNo}: not valid JSON (${(err as Error).message}); ${soFar()}`, { cause: err });
    }
    batch.push({ ...options, payload });
    batchLines.push(lineNo);
    batchBytes += Buffer.byteLength(line);
    if (batch.length >= batchSize || batchBytes >= ADD_FILE_BATCH_MAX_BYTES) await flush();
  }
  if (batch.length > 0) await flush();
  return added;
}
