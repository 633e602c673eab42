/**
 * Recovery time after a fault (pure): from the fault marker (a kill, a stop, a partition) to the moment both an add and an
 * ack have been confirmed `ok` after it, by any client. A kill that leaves the other processes
 * serving recovers at once; a killed broker or producer recovers once its clients or its
 * restarted self go through again. Null when one of the two never came after the fault.
 *
 * For a kill, also the time back after the restart: from the `ready` marker of the killed
 * process's next incarnation (a broker's serving line, PostgreSQL accepting connections, a
 * client's spawn) to the first add and ack both confirmed after it. Null when there was no
 * restart, or no add or ack after it.
 */
import type { HistoryEvent } from './events.ts';

export interface Recovery {
  target: string;
  action: string;
  at: number;
  recoveryMs: number | null;
  /** When the killed process (its next incarnation) was back, if it was restarted. */
  readyAt: number | null;
  backAfterRestartMs: number | null;
}

const nameOf = (proc: string) => proc.replace(/#\d+$/, '');

export function recoveryTimes(history: readonly HistoryEvent[]): Recovery[] {
  const addsOk = history.filter((e) => e.type === 'add' && e.outcome === 'ok').map((e) => e.at).sort((a, b) => a - b);
  const acksOk = history.filter((e) => e.type === 'completed' && e.outcome === 'ok').map((e) => e.at).sort((a, b) => a - b);
  const firstAfter = (times: number[], t: number) => times.find((x) => x >= t);
  const bothAfter = (t: number) => {
    const add = firstAfter(addsOk, t);
    const ack = firstAfter(acksOk, t);
    return add === undefined || ack === undefined ? null : Math.max(add, ack) - t;
  };
  return history.flatMap((e, i) => {
    if (e.type !== 'fault' || (e.action !== 'kill' && e.action !== 'stop' && e.action !== 'partition')) return [];
    let readyAt: number | null = null;
    if (e.action === 'kill') {
      const ready = history.slice(i + 1).find((r) => r.type === 'fault' && r.action === 'ready' && r.target !== e.target && nameOf(r.target) === nameOf(e.target));
      if (ready) readyAt = ready.at;
    }
    return [{ target: e.target, action: e.action, at: e.at, recoveryMs: bothAfter(e.at), readyAt, backAfterRestartMs: readyAt === null ? null : bothAfter(readyAt) }];
  });
}
