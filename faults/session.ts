/**
 * One session of a fault run: a deployment started fresh, one kind of fault applied for a
 * number of cycles from the seeded schedule, then the faults stop, the producers stop, the
 * queue drains, the store is read and the history checked. Every wait is for a state (an
 * event in the history, a count in the store), bounded by a generous deadline; the only
 * timed pauses are the schedule's own (when a fault strikes, how long a process stays down).
 */
import { check, type CheckReport } from './checker.ts';
import { makeDeployment, VISIBILITY_MS, type DeploymentName } from './deployments.ts';
import type { HistoryEvent, StoredJob } from './events.ts';
import type { ClientProcess, History } from './processes.ts';
import { recoveryTimes } from './recovery.ts';
import { OWN_POSTGRES_FAULTS, RESTART_FAULTS, schedule, type FaultKind } from './schedules/random.ts';
import { endFaults, STATE_WAIT_MS, sleep, STRIKES } from './strikes.ts';
import { drainAndRead, readAll } from './store-read.ts';

/** The disk-full fault's disk: room for the store of a session, then filled. PostgreSQL needs its WAL segments (16 MB each) and catalog. */
const DISK_MB_SQLITE = 64;
const DISK_MB_POSTGRES = 384;

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

/** An add and an ack confirmed at `t` or later: the add by `client` if it is a producer, the ack by it if it is a worker. */
const okAfter = (history: History, t: number, client: ClientProcess | null = null) => {
  const by = (proc: string, role: 'producer' | 'worker') => client === null || client.role !== role || proc.startsWith(`${client.name}#`);
  let add = false;
  let ack = false;
  for (let i = history.events.length - 1; i >= 0 && !(add && ack); i--) {
    const e = history.events[i]!;
    if (e.at < t) continue;
    if (e.type === 'add' && e.outcome === 'ok' && by(e.proc, 'producer')) add = true;
    if (e.type === 'completed' && e.outcome === 'ok' && by(e.proc, 'worker')) ack = true;
  }
  return add && ack;
};

export async function runSession(deploymentName: DeploymentName, fault: FaultKind, cycles: number, seed: number, options: { pgUrl?: string; log?: (line: string) => void } = {}): Promise<SessionResult> {
  const log = options.log ?? (() => {});
  const d = await makeDeployment(deploymentName, { pgUrl: options.pgUrl, relays: fault.startsWith('partition-'), ownPostgres: OWN_POSTGRES_FAULTS.includes(fault) && fault !== 'failover-postgres', ...(fault === 'disk-full' ? { smallDiskMb: deploymentName === 'brokers-postgres' ? DISK_MB_POSTGRES : DISK_MB_SQLITE } : {}), steppableClocks: fault === 'clock-step', replicatedPostgres: fault === 'failover-postgres' });
  const { history } = d;
  const errors: string[] = [];
  let report: CheckReport;
  let lockStalls = 0;
  // Leases are judged where nothing but a clock may take them back early (see faults/checker.ts).
  const leaseCheck = fault === 'clock-step' ? { leaseMs: VISIBILITY_MS } : {};
  try {
    await d.start();
    const reader = await d.reader();
    await history.until(() => okAfter(history, 0), STATE_WAIT_MS, () => 'a first confirmed add and ack');
    for (const [i, cycle] of schedule(seed, deploymentName, fault, cycles).entries()) {
      await sleep(cycle.runMs);
      const at = Date.now();
      const { backAt, client } = await STRIKES[fault]({ d, cycle, reader, lockStall: () => lockStalls++ });
      await history.until(() => okAfter(history, backAt, client), STATE_WAIT_MS, () => `a confirmed add and ack after the fault of cycle ${i + 1}${backAt > at ? ' and the restart' : ''}`);
      log(`${deploymentName} ${fault}: cycle ${i + 1}/${cycles} done`);
    }
    report = check(history.events, await drainAndRead(d, reader, STATE_WAIT_MS), leaseCheck);
    // No fault may corrupt the SQLite file (a kill mid-write, a full disk): its own check must pass.
    const integrity = d.integrity();
    if (integrity !== null && integrity !== 'ok') errors.push(`PRAGMA integrity_check: ${integrity}`);
  } catch (err) {
    errors.push(String((err as Error)?.message ?? err));
    const stderr = [...(d.postgres ? [d.postgres] : []), ...d.brokers, ...d.producers, ...d.workers].map((p) => `${p.proc}: ${p.stderr()}`).filter((s) => !s.endsWith(': ')).join('\n');
    if (stderr) errors.push(`stderr of the processes:\n${stderr}`);
    // The faults end anyway (a stopped worker continued, a partition healed) and the queue gets
    // its chance to drain, so the report tells lost jobs from jobs a stuck cycle left running.
    await endFaults(d, fault);
    let stored: StoredJob[] = [];
    try {
      stored = await drainAndRead(d, await d.reader(), STATE_WAIT_MS);
    } catch (e) {
      errors.push(`after the failure: ${(e as Error)?.message ?? e}`);
      // Every client killed (and its last lines read) before the read, so the history covers what the store holds.
      for (const p of [...d.producers, ...d.workers]) if (p.alive()) await p.signal('SIGKILL');
      stored = await d.reader().then((r) => readAll(r)).catch((e2: unknown) => (errors.push(`the final read failed: ${(e2 as Error)?.message ?? e2}`), []));
    }
    report = check(history.events, stored, leaseCheck);
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
