/**
 * Recovery time after a fault (pure): from the fault marker (a kill, a stop, a partition) to the moment both an add and an
 * ack have been confirmed `ok` after it, by any client. A kill that leaves the other processes
 * serving recovers at once; a killed broker or producer recovers once its clients or its
 * restarted self go through again. Null when one of the two never came after the fault.
 */
import type { HistoryEvent } from './events.ts';

export function recoveryTimes(history: readonly HistoryEvent[]): { target: string; action: string; at: number; recoveryMs: number | null }[] {
  const addsOk = history.filter((e) => e.type === 'add' && e.outcome === 'ok').map((e) => e.at).sort((a, b) => a - b);
  const acksOk = history.filter((e) => e.type === 'completed' && e.outcome === 'ok').map((e) => e.at).sort((a, b) => a - b);
  const firstAfter = (times: number[], t: number) => times.find((x) => x >= t);
  return history.flatMap((e) => {
    if (e.type !== 'fault' || (e.action !== 'kill' && e.action !== 'stop' && e.action !== 'partition')) return [];
    const add = firstAfter(addsOk, e.at);
    const ack = firstAfter(acksOk, e.at);
    return [{ target: e.target, action: e.action, at: e.at, recoveryMs: add === undefined || ack === undefined ? null : Math.max(add, ack) - e.at }];
  });
}
