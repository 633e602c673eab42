/**
 * Recovery time after a fault (pure): from the fault marker (a kill, a stop, a partition, the disk freed) to the moment both an add and an
 * ack have been confirmed `ok` after it: the add by the struck producer itself (any incarnation)
 * when the fault hit a producer, the ack by the struck worker itself when it hit a worker, and
 * otherwise by any client. So a producer cut off recovers when its own adds go through again,
 * not when the other producer's do; a killed broker recovers once its clients go through again.
 * Null when one of the two never came after the fault.
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
  const addsOk = history.filter((e) => e.type === 'add' && e.outcome === 'ok').sort((a, b) => a.at - b.at);
  const acksOk = history.filter((e) => e.type === 'completed' && e.outcome === 'ok').sort((a, b) => a.at - b.at);
  const firstAfter = (events: HistoryEvent[], t: number, by: string | null) => events.find((x) => x.at >= t && (by === null || nameOf(x.proc) === by))?.at;
  const bothAfter = (t: number, struck: { role: string; target: string }) => {
    const add = firstAfter(addsOk, t, struck.role === 'producer' ? nameOf(struck.target) : null);
    const ack = firstAfter(acksOk, t, struck.role === 'worker' ? nameOf(struck.target) : null);
    return add === undefined || ack === undefined ? null : Math.max(add, ack) - t;
  };
  return history.flatMap((e, i) => {
    // A full disk is measured from the moment space came back: while it is full, nothing is expected to go through.
    if (e.type !== 'fault' || (e.action !== 'kill' && e.action !== 'stop' && e.action !== 'partition' && e.action !== 'free')) return [];
    let readyAt: number | null = null;
    if (e.action === 'kill') {
      const ready = history.slice(i + 1).find((r) => r.type === 'fault' && r.action === 'ready' && r.target !== e.target && nameOf(r.target) === nameOf(e.target));
      if (ready) readyAt = ready.at;
    }
    return [{ target: e.target, action: e.action, at: e.at, recoveryMs: bothAfter(e.at, e), readyAt, backAfterRestartMs: readyAt === null ? null : bothAfter(readyAt, e) }];
  });
}
