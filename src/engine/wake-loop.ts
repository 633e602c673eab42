/**
 * The loop of every engine wait that reads a state until it holds (`queue.drained()`,
 * `waitJob()`): read; unless something said the state may have changed while it read, sleep
 * until something does (`listen`), the deadline passes, the signal aborts, or the next poll is
 * due; read again. The deadline is one timer for the whole wait, so a test that moves the clock
 * fires it however the reads fell. Every timer is on the engine's clock.
 */
import type { Clock, TimerHandle } from '../core/clock.ts';

export interface WakeLoop<T, L> {
  clock: Clock;
  timeoutMs: number;
  signal?: AbortSignal | undefined;
  /** Starts listening for news that the state may have changed (call `changed`); returns how to stop. */
  listen(changed: () => void): () => void;
  /** One read: the value once the state holds, else what is left (for the timeout's error). */
  read(): Promise<{ done: true; value: T } | { done: false; left: L }>;
  /** The error of a wait whose deadline passed, given what the last read left. */
  timedOut(left: L): Error;
  /** The delay before the next poll (called once per sleep); absent: no poll, only news wakes it. */
  pollMs?(): number;
}

/** @throws what `timedOut` gives when the deadline passes first; the signal's reason when it aborts. */
export async function wakeLoop<T, L>(w: WakeLoop<T, L>): Promise<T> {
  w.signal?.throwIfAborted();
  let wake = (): void => {};
  let changed = false;
  let timedOut = false;
  const stopListening = w.listen(() => {
    changed = true;
    wake();
  });
  const deadline = w.clock.setTimeout(() => {
    timedOut = true;
    wake();
  }, w.timeoutMs);
  const onAbort = (): void => wake();
  w.signal?.addEventListener('abort', onAbort);
  try {
    for (;;) {
      changed = false;
      const r = await w.read();
      if (r.done) return r.value;
      w.signal?.throwIfAborted();
      if (timedOut) throw w.timedOut(r.left);
      if (changed) continue;
      let poll: TimerHandle | null = null;
      await new Promise<void>((resolve) => {
        wake = resolve;
        if (w.pollMs) poll = w.clock.setTimeout(resolve, w.pollMs());
      });
      if (poll !== null) w.clock.clearTimeout(poll);
      wake = () => {};
    }
  } finally {
    stopListening();
    w.clock.clearTimeout(deadline);
    w.signal?.removeEventListener('abort', onAbort);
  }
}
