/**
 * One session of a fault run: a deployment started fresh, one kind of fault applied for a
 * number of cycles from the seeded schedule, then the faults stop, the producer stops, the
 * queue drains, the store is read and the history checked. Every wait is for a state (an
 * event in the history, a count in the store), bounded by a generous deadline; the only
 * timed pauses are the schedule's own (when a fault strikes, how long a process stays down).
 */
import { check, type CheckReport } from './checker.ts';
import { makeDeployment, QUEUE, type DeploymentName } from './deployments.ts';
import type { DeliveredEvent, HistoryEvent, StoredJob } from './events.ts';
import type { ClientProcess, History } from './processes.ts';
import { recoveryTimes } from './recovery.ts';
import { RESTART_FAULTS, schedule, type FaultKind } from './schedules/random.ts';

/** Longest any one state may take to come about (a broker restart, a failover, a drain) on a loaded machine. */
const STATE_WAIT_MS = 60_000;

export interface SessionResult {
  deployment: DeploymentName;
  fault: FaultKind;
  cycles: number;
  report: CheckReport;
  /** Longest recovery of the session, ms (null: none measured). */
  maxRecoveryMs: number | null;
  /**
   * Longest time, over the restarts of the session, from the restarted process (or PostgreSQL)
   * being back to an add and an ack both confirmed after it, ms (null: not a restarting fault kind,
   * or none measured).
   */
  maxBackAfterRestartMs: number | null;
  /** Stops that caught a worker holding the SQLite write lock: every process stalled until SIGCONT (embedded only). */
  lockStalls: number;
  /** Problems of the run itself (a state that never came about), besides the checker's. */
  errors: string[];
  ok: boolean;
  history: HistoryEvent[];
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const okAfter = (history: History, t: number) => {
  let add = false;
  let ack = false;
  for (let i = history.events.length - 1; i >= 0 && !(add && ack); i--) {
    const e = history.events[i]!;
    if (e.at < t) continue;
    if (e.type === 'add' && e.outcome === 'ok') add = true;
    if (e.type === 'completed' && e.outcome === 'ok') ack = true;
  }
  return add && ack;
};

/** Deliveries to `worker`'s current incarnation that it has not yet written an ack outcome for. */
function inFlight(history: History, worker: ClientProcess): DeliveredEvent[] {
  const open = new Map<string, DeliveredEvent>();
  for (const e of history.events) {
    if (e.type === 'delivered' && e.proc === worker.proc) open.set(`${e.jobId}/${e.token}`, e);
    if (e.type === 'completed' && e.proc === worker.proc) open.delete(`${e.jobId}/${e.token}`);
  }
  return [...open.values()];
}

export async function runSession(deploymentName: DeploymentName, fault: FaultKind, cycles: number, seed: number, options: { pgUrl?: string; log?: (line: string) => void } = {}): Promise<SessionResult> {
  const log = options.log ?? (() => {});
  const d = await makeDeployment(deploymentName, { pgUrl: options.pgUrl, relays: fault === 'partition-worker', ownPostgres: fault === 'restart-postgres' });
  const { history } = d;
  const errors: string[] = [];
  let report: CheckReport;
  let lockStalls = 0;
  /** Stops the producer, waits for the queue to drain, stops the workers (their last events read), reads every job. */
  const drainAndRead = async (reader: Awaited<ReturnType<typeof d.reader>>): Promise<StoredJob[]> => {
    await d.producer.stop();
    const queue = reader.queue(QUEUE);
    let counts = (await queue.stats()).counts;
    await untilStore(async () => {
      counts = (await queue.stats()).counts;
      return counts.ready + counts.active + counts.scheduled === 0;
    }, () => `the queue to drain (${JSON.stringify(counts)})`);
    for (const w of d.workers) await w.stop();
    return readAll(reader);
  };
  try {
    await d.start();
    const reader = await d.reader();
    await history.until(() => okAfter(history, 0), STATE_WAIT_MS, () => 'a first confirmed add and ack');
    for (const [i, cycle] of schedule(seed, deploymentName, fault, cycles).entries()) {
      await sleep(cycle.runMs);
      const at = Date.now();
      /** When the killed process (or PostgreSQL) was back; the cycle ends once an add and an ack were confirmed after that too. */
      let backAt = at;
      if (fault === 'stop-worker' || fault === 'partition-worker') {
        const index = cycle.target % d.workers.length;
        const worker = d.workers[index]!;
        // Stop it (or cut it off) while it holds jobs, so its acks come late.
        await history.until(() => inFlight(history, worker).length > 0, STATE_WAIT_MS, () => `${worker.proc} to hold a job`);
        if (fault === 'stop-worker') await worker.signal('SIGSTOP');
        else d.partition(index, true);
        const held = inFlight(history, worker);
        // Past its leases: no job it held is still leased to it in the store (taken back and run
        // elsewhere; or completed, when its ack went through just before the stop).
        // On one SQLite file, a process stopped inside a write transaction holds the database
        // lock: nobody can write (nor reap) until it runs again. Seen as another client's write
        // refused for the lock, that ends the stop too (its late acks are then accepted: no
        // other lease took the jobs).
        let lockStall = false;
        await untilStore(async () => {
          lockStall = history.events.some((e) => e.at >= at && (e.type === 'add' || e.type === 'completed') && 'error' in e && /database lock/.test(e.error ?? ''));
          if (lockStall) return true;
          const jobs = await Promise.all(held.map((h) => reader.get(h.jobId)));
          return jobs.every((j, k) => j.state !== 'active' || j.leaseToken !== held[k]!.token);
        }, () => `the jobs ${worker.proc} held to be taken back`);
        if (lockStall) lockStalls++;
        if (fault === 'stop-worker') await worker.signal('SIGCONT');
        else d.partition(index, false);
        // Its late acks come back with an outcome (stale, unless the lease was somehow still its own).
        await history.until(
          () => held.every((h) => history.events.some((e) => e.type === 'completed' && e.proc === worker.proc && e.jobId === h.jobId && e.token === h.token)),
          STATE_WAIT_MS,
          () => `${worker.proc} to write the outcome of its late acks`,
        );
      } else {
        const role = fault === 'kill-producer' ? 'producer' : fault === 'kill-worker' ? 'worker' : fault === 'restart-postgres' ? 'postgres' : 'broker';
        const targets = d.targets(role);
        const victim = targets[cycle.target % targets.length]!;
        // PostgreSQL: its immediate shutdown (every backend ends, no checkpoint), see faults/postgres.ts.
        await victim.signal('SIGKILL');
        await sleep(cycle.downMs);
        await victim.start();
        backAt = Date.now();
      }
      await history.until(() => okAfter(history, backAt), STATE_WAIT_MS, () => `a confirmed add and ack after the fault of cycle ${i + 1}${backAt > at ? ' and the restart' : ''}`);
      log(`${deploymentName} ${fault}: cycle ${i + 1}/${cycles} done`);
    }
    report = check(history.events, await drainAndRead(reader));
  } catch (err) {
    errors.push(String((err as Error)?.message ?? err));
    const stderr = [...(d.postgres ? [d.postgres] : []), ...d.brokers, d.producer, ...d.workers].map((p) => `${p.proc}: ${p.stderr()}`).filter((s) => !s.endsWith(': ')).join('\n');
    if (stderr) errors.push(`stderr of the processes:\n${stderr}`);
    // The faults end anyway (a stopped worker continued, a partition healed) and the queue gets
    // its chance to drain, so the report tells lost jobs from jobs a stuck cycle left running.
    for (const [i, w] of d.workers.entries()) {
      if (w.alive() && fault === 'stop-worker') await w.signal('SIGCONT');
      if (fault === 'partition-worker') d.partition(i, false);
    }
    let stored: StoredJob[] = [];
    try {
      stored = await drainAndRead(await d.reader());
    } catch (e) {
      errors.push(`after the failure: ${(e as Error)?.message ?? e}`);
      // Every client killed (and its last lines read) before the read, so the history covers what the store holds.
      for (const p of [d.producer, ...d.workers]) if (p.alive()) await p.signal('SIGKILL');
      stored = await d.reader().then((r) => readAll(r)).catch((e2: unknown) => (errors.push(`the final read failed: ${(e2 as Error)?.message ?? e2}`), []));
    }
    report = check(history.events, stored);
  } finally {
    await d.dispose();
  }
  const recoveries = recoveryTimes(history.events);
  const times = recoveries.map((r) => r.recoveryMs).filter((t): t is number => t !== null);
  const backTimes = RESTART_FAULTS.includes(fault) ? recoveries.map((r) => r.backAfterRestartMs).filter((t): t is number => t !== null) : [];
  return {
    deployment: deploymentName,
    fault,
    cycles,
    report,
    maxRecoveryMs: times.length ? Math.max(...times) : null,
    maxBackAfterRestartMs: backTimes.length ? Math.max(...backTimes) : null,
    lockStalls,
    errors,
    ok: report.ok && errors.length === 0,
    history: history.events,
  };
}

/** Resolves once `cond` (a read of the store) holds, asking every 100 ms; fails after STATE_WAIT_MS. */
async function untilStore(cond: () => Promise<boolean>, what: () => string): Promise<void> {
  const deadline = Date.now() + STATE_WAIT_MS;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${STATE_WAIT_MS} ms waiting for ${what()}`);
    await sleep(100);
  }
}

async function readAll(reader: { listPage(queue: string, options: { after?: string; limit: number }): Promise<{ jobs: { id: string; payload: unknown; state: string; leaseToken: number }[]; next: string | null }> }): Promise<StoredJob[]> {
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
