/**
 * The history checker: pure, no I/O. Given what the clients saw (adds, deliveries, acks), the
 * faults the runner caused, and a final read of every job in the store once the queue has
 * drained, it says what went wrong. Definitions (docs/reliability.md repeats them):
 *
 * - lost: an add confirmed `ok` whose job is absent from the store or not `completed`.
 * - unexpected: a delivery (or a stored job) whose caller id no producer ever tried to add.
 * - redelivered after an acknowledged completion: a delivery of a job with a lease token above
 *   one whose ack was confirmed `ok` (completed is final: nothing may lease it again).
 * - phantom ack: an ack confirmed `ok` for a lease that did not complete the job: the stored
 *   job is not completed, or another lease token completed it.
 * - duplicate: a job delivered more than once, with the cause of each extra delivery: the
 *   previous delivery was `in-flight-at-kill` (its worker, or a broker, was killed while it
 *   ran) or its lease expired (`lease-expired`: a stalled worker, an ack that never arrived).
 * - stored twice: two or more stored jobs carrying one caller id (a producer retried an add
 *   whose outcome it did not know; it passes the caller id as the add's idempotencyKey, so the
 *   store must keep one).
 * - early: a delayed job first delivered sooner than 90 % of its delay after its add was begun
 *   (a stepped clock may make Spool's time run at most 10 % fast, see src/core/clock.ts; nothing
 *   else may bring a delayed job forward); and, when the lease length is given (the clock-step
 *   sessions), a lease taken back in less than half its length: the next delivery of a job
 *   (no kill in between) came sooner than that after the previous one. Half, because the
 *   previous delivery may reach its worker late on a loaded machine; a reaper misled by a
 *   clock step takes leases back within a maintenance tick.
 *
 * The verdict fails on lost, unexpected, redelivered-after-acknowledged-completion, phantom acks,
 * publishes stored twice and early deliveries. Duplicate deliveries are reported, not failed: at-least-once
 * delivery allows them (a worker killed mid-job, a lease that ran out).
 */
import type { AddEvent, CompletedEvent, DeliveredEvent, FaultMarker, HistoryEvent, StoredJob } from './events.ts';

export type DuplicateCause = 'in-flight-at-kill' | 'lease-expired';

export interface Finding { jobId: string | null; callerId: string | null; detail: string }
export interface Duplicate { jobId: string; callerId: string | null; deliveries: number; causes: DuplicateCause[] }

export interface CheckReport {
  ok: boolean;
  /** Why `ok` is false: one line per kind of failure. */
  reasons: string[];
  counts: {
    addsTried: number;
    acknowledgedAdds: number;
    refusedAdds: number;
    unknownAdds: number;
    deliveries: number;
    acksOk: number;
    acksStale: number;
    acksUnknown: number;
    storedJobs: number;
  };
  lost: Finding[];
  unexpected: Finding[];
  redeliveredAfterCompletion: Finding[];
  phantomAcks: Finding[];
  duplicates: Duplicate[];
  /** Extra deliveries per cause (a job delivered 3 times counts 2). */
  duplicateCauses: Record<DuplicateCause, number>;
  storedTwice: { callerId: string; jobIds: string[] }[];
  early: { delays: Finding[]; leases: Finding[] };
}

export function check(history: readonly HistoryEvent[], finalJobs: readonly StoredJob[], options: { leaseMs?: number } = {}): CheckReport {
  const invoked = new Set<string>();
  /** Delayed adds: the delay and when the first try of the add began. */
  const delayed = new Map<string, { at: number; delayMs: number }>();
  const adds: AddEvent[] = [];
  const deliveries: DeliveredEvent[] = [];
  const acks: CompletedEvent[] = [];
  const faults: FaultMarker[] = [];
  for (const e of history) {
    if (e.type === 'add-invoke') {
      invoked.add(e.callerId);
      if (e.delayMs && !delayed.has(e.callerId)) delayed.set(e.callerId, { at: e.at, delayMs: e.delayMs });
    } else if (e.type === 'add') {
      invoked.add(e.callerId);
      adds.push(e);
    } else if (e.type === 'delivered') deliveries.push(e);
    else if (e.type === 'completed') acks.push(e);
    else faults.push(e);
  }
  const stored = new Map(finalJobs.map((j) => [j.id, j]));

  const lost: Finding[] = [];
  for (const a of adds) {
    if (a.outcome !== 'ok') continue;
    const job = stored.get(a.jobId);
    if (!job) lost.push({ jobId: a.jobId, callerId: a.callerId, detail: 'acknowledged add, job absent from the store' });
    else if (job.state !== 'completed') lost.push({ jobId: a.jobId, callerId: a.callerId, detail: `acknowledged add, job never completed (${job.state})` });
  }

  const unexpected: Finding[] = [];
  const flagged = new Set<string>();
  for (const d of deliveries) {
    if (d.callerId !== null && invoked.has(d.callerId)) continue;
    if (flagged.has(d.jobId)) continue;
    flagged.add(d.jobId);
    unexpected.push({ jobId: d.jobId, callerId: d.callerId, detail: `delivered to ${d.proc}, never added` });
  }
  for (const j of finalJobs) {
    if ((j.callerId !== null && invoked.has(j.callerId)) || flagged.has(j.id)) continue;
    flagged.add(j.id);
    unexpected.push({ jobId: j.id, callerId: j.callerId, detail: `stored (${j.state}), never added` });
  }

  // Acknowledged completions, by job: the lowest token whose ack was confirmed.
  const ackedToken = new Map<string, number>();
  const phantomAcks: Finding[] = [];
  for (const c of acks) {
    if (c.outcome !== 'ok') continue;
    const prev = ackedToken.get(c.jobId);
    if (prev === undefined || c.token < prev) ackedToken.set(c.jobId, c.token);
    const job = stored.get(c.jobId);
    if (!job) phantomAcks.push({ jobId: c.jobId, callerId: null, detail: `ack ok for token ${c.token} by ${c.proc}, job absent from the store` });
    else if (job.state !== 'completed') phantomAcks.push({ jobId: c.jobId, callerId: job.callerId, detail: `ack ok for token ${c.token} by ${c.proc}, job is ${job.state}` });
    else if (job.leaseToken !== c.token) phantomAcks.push({ jobId: c.jobId, callerId: job.callerId, detail: `ack ok for token ${c.token} by ${c.proc}, token ${job.leaseToken} completed it` });
  }

  const redeliveredAfterCompletion: Finding[] = [];
  for (const d of deliveries) {
    const t = ackedToken.get(d.jobId);
    if (t !== undefined && d.token > t) {
      redeliveredAfterCompletion.push({ jobId: d.jobId, callerId: d.callerId, detail: `delivered with token ${d.token} to ${d.proc} after the ack of token ${t} was confirmed` });
    }
  }

  const byJob = new Map<string, DeliveredEvent[]>();
  for (const d of deliveries) {
    const list = byJob.get(d.jobId) ?? [];
    list.push(d);
    byJob.set(d.jobId, list);
  }
  const duplicates: Duplicate[] = [];
  const duplicateCauses: Record<DuplicateCause, number> = { 'in-flight-at-kill': 0, 'lease-expired': 0 };
  const early: CheckReport['early'] = { delays: [], leases: [] };
  for (const [jobId, list] of byJob) {
    const byToken = [...new Map(list.map((d) => [d.token, d])).values()].sort((a, b) => a.token - b.token);
    const first = byToken[0]!;
    const delay = first.callerId === null ? undefined : delayed.get(first.callerId);
    if (delay && first.at - delay.at < delay.delayMs * 0.9) {
      early.delays.push({ jobId, callerId: first.callerId, detail: `delayed ${delay.delayMs} ms, delivered ${first.at - delay.at} ms after its add began` });
    }
    if (byToken.length < 2) continue;
    const causes: DuplicateCause[] = [];
    for (let i = 1; i < byToken.length; i++) {
      const [prev, next] = [byToken[i - 1]!, byToken[i]!];
      const cause = causeOf(prev, next, faults);
      causes.push(cause);
      duplicateCauses[cause]++;
      if (options.leaseMs !== undefined && cause === 'lease-expired' && next.at - prev.at < options.leaseMs / 2) {
        early.leases.push({ jobId, callerId: first.callerId, detail: `token ${prev.token} delivered to ${prev.proc}, taken back and delivered again ${next.at - prev.at} ms later (lease ${options.leaseMs} ms)` });
      }
    }
    duplicates.push({ jobId, callerId: byToken[0]!.callerId, deliveries: byToken.length, causes });
  }

  const byCaller = new Map<string, string[]>();
  for (const j of finalJobs) {
    if (j.callerId === null) continue;
    byCaller.set(j.callerId, [...(byCaller.get(j.callerId) ?? []), j.id]);
  }
  const storedTwice = [...byCaller].filter(([, ids]) => ids.length > 1).map(([callerId, jobIds]) => ({ callerId, jobIds }));

  const reasons: string[] = [];
  const say = (list: Finding[], what: string) => {
    if (list.length > 0) reasons.push(`${list.length} ${what}, e.g. ${list[0]!.jobId ?? list[0]!.callerId}: ${list[0]!.detail}`);
  };
  say(lost, 'lost');
  say(unexpected, 'unexpected');
  say(redeliveredAfterCompletion, 'redelivered after an acknowledged completion');
  say(phantomAcks, 'phantom acks');
  say(early.delays, 'delayed jobs delivered early');
  say(early.leases, 'leases taken back early');
  if (storedTwice.length > 0) reasons.push(`${storedTwice.length} publishes stored twice, e.g. caller id ${storedTwice[0]!.callerId}: jobs ${storedTwice[0]!.jobIds.join(', ')}`);

  return {
    ok: reasons.length === 0,
    reasons,
    counts: {
      addsTried: invoked.size,
      acknowledgedAdds: adds.filter((a) => a.outcome === 'ok').length,
      refusedAdds: adds.filter((a) => a.outcome === 'refused').length,
      unknownAdds: adds.filter((a) => a.outcome === 'unknown').length,
      deliveries: deliveries.length,
      acksOk: acks.filter((c) => c.outcome === 'ok').length,
      acksStale: acks.filter((c) => c.outcome === 'stale').length,
      acksUnknown: acks.filter((c) => c.outcome === 'unknown').length,
      storedJobs: finalJobs.length,
    },
    lost,
    unexpected,
    redeliveredAfterCompletion,
    phantomAcks,
    duplicates,
    duplicateCauses,
    storedTwice,
    early,
  };
}

/** Why `next` happened after `prev`: a kill of prev's worker or of a broker, or PostgreSQL stopped, in between; else the lease ran out. */
function causeOf(prev: DeliveredEvent, next: DeliveredEvent, faults: readonly FaultMarker[]): DuplicateCause {
  const killed = faults.some((f) => f.action === 'kill' && f.at >= prev.at && f.at <= next.at && (f.target === prev.proc || f.role === 'broker' || f.role === 'postgres'));
  return killed ? 'in-flight-at-kill' : 'lease-expired';
}
