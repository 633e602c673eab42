import { settle } from '../../src/core/clock.ts';
import type { Store } from '../../src/store/store.ts';

/**
 * A store whose calls in flight can be waited for: `quiet()` resolves once every call it started
 * has answered ("the step's effects have landed"), so a test on a manual clock can tell that a
 * process had its chance to act without waiting for a time.
 */
export function tracked(store: Store): Store & { quiet(): Promise<void> } {
  const pending = new Set<Promise<unknown>>();
  const quiet = async () => {
    for (;;) {
      await settle(5);
      if (pending.size === 0) return;
      await Promise.allSettled([...pending]);
    }
  };
  return new Proxy(store, {
    get(target, key) {
      if (key === 'quiet') return quiet;
      const value = Reflect.get(target, key, target) as unknown;
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        const r = (value as (...a: unknown[]) => unknown).apply(target, args);
        if (r instanceof Promise) {
          pending.add(r);
          void r.finally(() => pending.delete(r)).catch(() => {});
        }
        return r;
      };
    },
  }) as Store & { quiet(): Promise<void> };
}
