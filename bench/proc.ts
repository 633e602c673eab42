/**
 * One extra process of a multi-process workload (W3-2w, W7; for spool-server also
 * W4 and C1000): a producer, a worker or a holder of idle connections on the store
 * (or broker) another process's target created. The coordinator
 * (workloads/multi-process.ts) forks it with an IPC channel as
 *
 *   node bench/proc.ts <target> <producer|worker|idle> <spec-json>
 *
 * and drives it with messages (see ProcMessage / CoordinatorMessage):
 * it opens its target (attached to the shared store) and says `ready`; on `start`
 * a producer adds jobs, one `add()` per job with at most `inFlight` calls in flight, until
 * `endAt`: at full speed, or on the fixed schedule of its `pace` (W7), and a worker starts a no-op worker of `concurrency`; a worker reports
 * `progress` every 100 ms and, on `stop`, closes and reports what it completed.
 * A worker with `measure: 'start'` (W4) starts before it says `ready` and records
 * add→handler-start instead of add→completion. An `idle` process opens
 * `connections` idle client sessions before it says `ready`, and closes them on `stop`.
 * Times are epoch milliseconds (epochNow), comparable between processes.
 */
import { benchPayload, type BenchPayload } from './payload.ts';
import type { Target, TargetContext, TargetWorker } from './target.ts';
import { createTarget, isTargetId } from './targets/index.ts';
import { epochNow } from './workloads/run-context.ts';
import { dueAt, scheduledJobs, type ProducerPace } from './workloads/w7-pace.ts';

/** The third argument of a proc. */
export interface ProcSpec {
  /** The coordinator's target context with `attach` set. */
  context: TargetContext;
  /** This process's number among those of its role, from 0. */
  index: number;
  /** Worker: handlers at once. */
  concurrency: number;
  /** Producer: add() calls in flight (at most, when paced). */
  inFlight: number;
  /** Producer: add on this schedule (workloads/w7-pace.ts) rather than at full speed. */
  pace?: ProducerPace;
  /**
   * Worker: what the latencies measure, from the payload's add time `t`: until the
   * completion is acknowledged (W7, the default), or until the handler starts (W4).
   */
  measure?: 'complete' | 'start';
  /** Idle: client sessions to open. */
  connections?: number;
}

/** Coordinator → proc. */
export type CoordinatorMessage =
  | { type: 'start'; startAt: number; endAt: number | null }
  | { type: 'stop' };

/** Proc → coordinator. */
export type ProcMessage =
  | { type: 'ready' }
  | { type: 'progress'; count: number }
  | {
      type: 'produced';
      added: number;
      lastAddedAt: number;
      /** Paced: how far behind its schedule an add() call was made, at most (ms); 0 at full speed. */
      maxLagMs: number;
    }
  | {
      type: 'drained';
      /** Completions acknowledged by the store, in all. */
      completed: number;
      /** Those whose acknowledgement came within [startAt, endAt]. */
      inWindow: number;
      /** When the last completion was acknowledged (epoch ms), or null. */
      lastCompletedAt: number | null;
      /** Handler starts (measure 'start') or completions in the window that carried their add time. */
      latencies: Float64Array;
    }
  | { type: 'closed'; connections: number }
  | { type: 'failed'; message: string };

const PROGRESS_INTERVAL_MS = 100;

function send(message: ProcMessage): Promise<void> {
  return new Promise((resolve, reject) => process.send!(message, undefined, {}, (err) => (err ? reject(err) : resolve())));
}

/** Waits for the next message from the coordinator. */
function nextMessage(): Promise<CoordinatorMessage> {
  return new Promise((resolve) => process.once('message', (m) => resolve(m as CoordinatorMessage)));
}

async function produce(add: (p: BenchPayload) => Promise<void>, spec: ProcSpec, endAt: number): Promise<ProcMessage> {
  let added = 0;
  let next = 0;
  let lastAddedAt = 0;
  const progress = setInterval(() => void send({ type: 'progress', count: added }), PROGRESS_INTERVAL_MS * 10);
  const lane = async (): Promise<void> => {
    for (;;) {
      const t = epochNow();
      if (t >= endAt) return;
      // n keeps payloads of different producers apart; t is the add time the worker subtracts.
      await add({ ...benchPayload(next++ * 16 + spec.index), t });
      added++;
      lastAddedAt = epochNow();
    }
  };
  try {
    await Promise.all(Array.from({ length: spec.inFlight }, lane));
  } finally {
    clearInterval(progress);
  }
  return { type: 'produced', added, lastAddedAt, maxLagMs: 0 };
}

/** How often a paced producer's timer looks for jobs that have fallen due (as W4's producer). */
const PACE_INTERVAL_MS = 1;

/**
 * A paced producer: job k is added once it is due (w7-pace.ts), in a burst when a
 * timer fires late, with at most `inFlight` calls outstanding; a job that has to
 * wait for a free call starts late, which `maxLagMs` reports. The payload's `t` is
 * the add() call's time, as at full speed.
 */
async function producePaced(add: (p: BenchPayload) => Promise<void>, spec: ProcSpec, pace: ProducerPace, startAt: number, endAt: number): Promise<ProcMessage> {
  const total = scheduledJobs(pace, startAt, endAt);
  let next = 0;
  let added = 0;
  let inFlight = 0;
  let lastAddedAt = 0;
  let maxLagMs = 0;
  const progress = setInterval(() => void send({ type: 'progress', count: added }), PROGRESS_INTERVAL_MS * 10);
  try {
    await new Promise<void>((resolve, reject) => {
      const tick = (): void => {
        const now = epochNow();
        while (next < total && inFlight < spec.inFlight && dueAt(pace, startAt, next) <= now) {
          maxLagMs = Math.max(maxLagMs, now - dueAt(pace, startAt, next));
          inFlight++;
          add({ ...benchPayload(next++ * 16 + spec.index), t: epochNow() }).then(() => {
            inFlight--;
            added++;
            lastAddedAt = epochNow();
            if (added === total) resolve();
          }, reject);
        }
        if (next < total) setTimeout(tick, PACE_INTERVAL_MS);
      };
      if (total === 0) resolve();
      else tick();
    });
  } finally {
    clearInterval(progress);
  }
  return { type: 'produced', added, lastAddedAt, maxLagMs };
}

async function main(argv: string[]): Promise<void> {
  const [targetId, role, specJson] = argv;
  if (argv.length !== 3 || !targetId || !isTargetId(targetId) || (role !== 'producer' && role !== 'worker' && role !== 'idle') || !specJson || !process.send) {
    throw new Error(`usage (forked with IPC): node bench/proc.ts <target> <producer|worker|idle> <spec-json> (got ${JSON.stringify(argv)})`);
  }
  const spec = JSON.parse(specJson) as ProcSpec;
  const target = createTarget(targetId, spec.context);
  try {
    if (role === 'idle') return await holdIdle(target, spec);
    await target.setup();
    if (role === 'producer') {
      await send({ type: 'ready' });
      const start = await nextMessage();
      if (start.type !== 'start') throw new Error(`expected start, got ${start.type}`);
      if (start.endAt === null) throw new Error('a producer needs an endAt');
      const add = (p: BenchPayload): Promise<void> => target.addOne(p);
      await send(await (spec.pace ? producePaced(add, spec, spec.pace, start.startAt, start.endAt) : produce(add, spec, start.endAt)));
      return;
    }
    await work(target, spec);
  } finally {
    await target.teardown();
  }
}

async function work(target: Target, spec: ProcSpec): Promise<void> {
  const measureStart = spec.measure === 'start';
  let startAt = -Infinity;
  let endAt = Infinity;
  let inWindow = 0;
  let samples = 0;
  let lastCompletedAt: number | null = null;
  let latencies = new Float64Array(1 << 16);
  const record = (payload: BenchPayload, now: number): void => {
    if (now < startAt || now > endAt) return;
    inWindow++;
    if (payload.t === undefined) return;
    if (samples === latencies.length) {
      const grown = new Float64Array(latencies.length * 2);
      grown.set(latencies);
      latencies = grown;
    }
    latencies[samples++] = now - payload.t;
  };
  const startWorker = (): Promise<TargetWorker> =>
    target.startWorker({
      concurrency: spec.concurrency,
      ...(measureStart ? { onStart: (payload: BenchPayload) => record(payload, epochNow()) } : {}),
      onComplete: (payload, completedAt) => {
        const now = completedAt ?? epochNow();
        lastCompletedAt = now;
        if (!measureStart) record(payload, now);
      },
    });
  // Measuring handler starts (W4), the worker runs before the producer's first add.
  let worker = measureStart ? await startWorker() : null;
  await send({ type: 'ready' });
  const start = await nextMessage();
  if (start.type !== 'start') throw new Error(`expected start, got ${start.type}`);
  startAt = measureStart ? -Infinity : start.startAt;
  endAt = start.endAt ?? Infinity;
  worker ??= await startWorker();
  const running = worker;
  let reported = -1;
  const progress = setInterval(() => {
    const count = running.completed();
    if (count !== reported) void send({ type: 'progress', count: (reported = count) });
  }, PROGRESS_INTERVAL_MS);
  try {
    const stop = await nextMessage();
    if (stop.type !== 'stop') throw new Error(`expected stop, got ${stop.type}`);
  } finally {
    clearInterval(progress);
  }
  await running.close();
  await send({ type: 'drained', completed: running.completed(), inWindow, lastCompletedAt, latencies: latencies.slice(0, samples) });
}

/** C1000: opens the idle sessions, says ready, holds them until stop. */
async function holdIdle(target: Target, spec: ProcSpec): Promise<void> {
  if (!target.idleConnections) throw new Error(`${target.id} cannot open idle connections (it has no broker)`);
  const count = spec.connections ?? 0;
  const close = await target.idleConnections(count);
  try {
    await send({ type: 'ready' });
    const stop = await nextMessage();
    if (stop.type !== 'stop') throw new Error(`expected stop, got ${stop.type}`);
  } finally {
    await close();
  }
  await send({ type: 'closed', connections: count });
}

main(process.argv.slice(2)).then(
  () => process.exit(0),
  async (err: unknown) => {
    const message = (err as Error)?.stack ?? String(err);
    process.stderr.write(`bench proc failed: ${message}\n`);
    if (process.connected) await send({ type: 'failed', message: (err as Error)?.message ?? String(err) }).catch(() => {});
    process.exit(1);
  },
);
