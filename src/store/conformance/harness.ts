import { describe, it } from 'node:test';
import type { SpoolClient } from '../../api/contract.ts';
import type { Queue } from '../../api/queue.ts';
import { ManualClock, settle } from '../../core/clock.ts';
import { Spool, type OpenOptions } from '../../engine/spool.ts';
import type { Store } from '../store.ts';

/** Store settings a test may ask the factory for. */
export interface StoreTestOptions {
  historyMax?: number;
}

/**
 * Makes a fresh, empty store for one test of the API-level suite (`runStoreConformance`),
 * honouring the settings the test asks for.
 * @example
 * const factory: StoreFactory = (options) => openPostgresStore({ ...options, url, schema: uniqueSchema() });
 */
export type StoreFactory = (options: StoreTestOptions) => Promise<Store> | Store;

/**
 * How a test reaches Spool: `in-process` calls the engine (`Spool.open`); `remote` calls a
 * `RemoteSpool` (`Spool.connect`) connected to a real broker on 127.0.0.1 that serves the
 * same engine.
 */
export type HarnessMode = 'in-process' | 'remote';

/** What each suite is registered with: the store to test and the way in. */
export interface HarnessTarget {
  readonly factory: StoreFactory;
  readonly mode: HarnessMode;
}

/** The public contract, plus the queue handle both implementations offer. */
export type Api = SpoolClient & { queue<P = unknown>(name: string): Queue<P> };

export interface Harness {
  readonly mode: HarnessMode;
  /**
   * The Spool under test, through the public contract: the engine itself (in-process), or a
   * remote client of a broker serving it. Every call of the contract goes through here.
   */
  readonly api: Api;
  /** Always the engine: for what only it has (claim, runMaintenance, cleanup, store, internals). */
  readonly spool: Spool;
  /**
   * The engine's clock, shared with the remote client: the worker's lease extensions and the
   * engine's deadlines and backoffs are measured on one time line, moved only by the test.
   */
  readonly clock: ManualClock;
  /** The engine's store (wrapped to know when its calls have answered). */
  readonly store: Store;
  /**
   * Waits until the effects of what happened so far have landed: the engine's store calls have
   * answered and, in the remote mode, whatever the client sent has been answered and whatever
   * the broker pushed (deliveries, revokes) has reached the client. Call it after `clock.advance`
   * (or any step whose effects travel) before asserting through `api` — in particular before
   * asserting that something did *not* happen.
   */
  settled(): Promise<void>;
}

/** How long `settled()` waits for store calls before it fails the test (real time, generous for loaded CI machines). */
const SETTLE_DEADLINE_MS = 20_000;

/**
 * A store that knows which of its calls have not answered yet, so `settled()` can wait for
 * the engine's work without sleeping. Methods are bound to the store (private fields work).
 */
function tracked(store: Store): { store: Store; quiet: () => Promise<void> } {
  const pending = new Map<Promise<unknown>, string>();
  const quiet = async () => {
    const deadline = Date.now() + SETTLE_DEADLINE_MS;
    for (;;) {
      await settle(5); // batchers flush at the end of a turn: their store calls start here
      if (pending.size === 0) return;
      if (Date.now() > deadline) throw new Error(`store calls still unanswered after ${SETTLE_DEADLINE_MS} ms: ${[...pending.values()].join(', ')}`);
      await Promise.race([Promise.allSettled([...pending.keys()]), new Promise((r) => setTimeout(r, 100))]);
    }
  };
  const proxy = new Proxy(store, {
    get(target, key) {
      const value = Reflect.get(target, key, target) as unknown;
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        const r = (value as (...a: unknown[]) => unknown).apply(target, args);
        if (r instanceof Promise) {
          pending.set(r, String(key));
          void r.finally(() => pending.delete(r)).catch(() => {});
        }
        return r;
      };
    },
  });
  return { store: proxy, quiet };
}

/**
 * One request through the client and its answer, touching nothing: a `get` of a malformed id,
 * refused before the engine reads anything. Frames are ordered on the socket, so when it
 * returns, every frame the client sent before has reached the broker (and been handed to the
 * engine), and every frame the broker sent before the answer has been handled by the client.
 */
async function roundTrip(api: Api): Promise<void> {
  try {
    await api.get('settled?');
  } catch (err) {
    if ((err as { code?: unknown }).code !== 'INVALID_ARGUMENT') throw err;
  }
}

/** A harness and how to close it. */
export async function openHarness(
  target: HarnessTarget,
  options: Omit<OpenOptions, 'store' | 'clock'> = {},
  storeOptions: StoreTestOptions = {},
  clockStartMs?: number,
): Promise<Harness & { close(): Promise<void> }> {
  const clock = new ManualClock(clockStartMs);
  const { store, quiet } = tracked(await target.factory(storeOptions));
  const spool = await Spool.open({ store, clock, random: () => 0.5, onError: () => {}, ...options });
  if (target.mode === 'in-process') {
    return { mode: target.mode, api: spool, spool, clock, store, settled: quiet, close: () => spool.close() };
  }
  // Loaded on first use: a driver tested in-process only does not load the server.
  const [{ startBroker }, { connect }] = await Promise.all([import('../../server/broker.ts'), import('../../client/connect.ts')]);
  let broker: Awaited<ReturnType<typeof startBroker>> | null = null;
  try {
    broker = await startBroker(spool, { host: '127.0.0.1', port: 0 });
    // The client gets the engine's ManualClock. A worker takes its lease length as
    // job.leaseExpiresAt (engine time) minus its own clock's now, and extends every third of it
    // on its own clock. On the system clock the length would be nonsense (the manual clock's
    // epoch is not today: it falls to the 100 ms floor) and extensions would follow real time,
    // not the time the test moves: a lease would lapse at the first clock.advance. Backoffs and
    // deadlines are the engine's, on its clock, either way.
    const api = await connect(broker.wsUrl, { clock, random: () => 0.5, onError: () => {}, log: () => {} });
    const settled = async () => {
      await quiet(); // the engine's work started by the clock move (timers, maintenance)
      for (let i = 0; i < 2; i++) {
        await roundTrip(api); // the client's requests (an extend, an ack) have reached the engine…
        await quiet(); // …and the engine has done them
      }
      await roundTrip(api); // their answers, and deliveries and revokes sent meanwhile, have reached the client
    };
    const b = broker;
    const close = async () => {
      await api.close();
      await b.close();
      await spool.close();
    };
    return { mode: target.mode, api, spool, clock, store, settled, close };
  } catch (err) {
    await broker?.close();
    await spool.close();
    throw err;
  }
}

/** Runs `fn` with a fresh harness and always closes it; its manual clock starts at `clockStartMs` (default 2026-01-01). */
export async function withHarness(
  target: HarnessTarget,
  fn: (h: Harness) => Promise<void>,
  options: Omit<OpenOptions, 'store' | 'clock'> = {},
  storeOptions: StoreTestOptions = {},
  clockStartMs?: number,
): Promise<void> {
  const h = await openHarness(target, options, storeOptions, clockStartMs);
  try {
    await fn(h);
  } finally {
    await h.close();
  }
}

/**
 * `it` for a test that runs in-process only: registered in the in-process mode, left out of
 * the remote one. `why` says what keeps it from running through a broker (it needs the engine
 * itself: a wrapped store, an engine-only behaviour); keep such tests few.
 * @example
 * inProcessOnly(target, 'races an ack against the reaper within 0–3 turns of the event loop')('a race …', () => …);
 */
export function inProcessOnly(target: HarnessTarget, why: string): typeof it {
  if (why.trim() === '') throw new Error('inProcessOnly: say why the test cannot run through a broker');
  return target.mode === 'in-process' ? it : ((() => {}) as unknown as typeof it);
}

/** `describe` for a suite whose tests all run in-process only; see {@link inProcessOnly}. */
export function suiteInProcessOnly(target: HarnessTarget, why: string): typeof describe {
  if (why.trim() === '') throw new Error('suiteInProcessOnly: say why the suite cannot run through a broker');
  return target.mode === 'in-process' ? describe : ((() => {}) as unknown as typeof describe);
}
