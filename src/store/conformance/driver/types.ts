import type { Store } from '../../store.ts';

/**
 * What the driver suite needs from a driver: fresh data for each test, stores opened on
 * it, and (optionally) ways to reach past the store for what only the driver can do.
 * @example
 * const factory: DriverFactory = {
 *   create: () => {
 *     const path = join(dir, `t${n++}.db`);
 *     return { shared: true, open: () => new SqliteStore({ path }) };
 *   },
 *   unreachable: () => new SqliteStore({ path: dir }), // a directory is no database
 * };
 */
export interface DriverFactory {
  /** Makes fresh, empty data for one test (a new file, a new schema) and returns a handle to it. */
  create(): DriverData | Promise<DriverData>;
  /**
   * Optional (area `errors`): opens a store on data it cannot reach (a server that is down, a path
   * that cannot hold a database). The open, or else every call, must fail with StoreUnavailableError.
   */
  unreachable?(): Store | Promise<Store>;
  /**
   * Optional (area `errors`): opens a store on fresh data that cannot grow past a small size (a full
   * disk, a size cap). Writes past it must fail with StoreUnavailableError and write nothing.
   */
  full?(): Store | Promise<Store>;
}

/** Fresh data made by {@link DriverFactory.create}: the suite closes every store it opened, then calls `dispose`. */
export interface DriverData {
  /**
   * Opens a store on this data. Called once per test, and again where a test needs a second
   * store on the same data, as a second process would open it.
   */
  open(): Store | Promise<Store>;
  /**
   * Whether a second `open()` sees what the first wrote. False for data private to one store
   * (SQLite `:memory:`): the tests that need two stores are then skipped, saying why.
   */
  readonly shared: boolean;
  /** Optional (area `migrations`): the schema version recorded in the data, read and written past the store. */
  readonly schema?: SchemaProbe;
  /** Optional: removes the data after the test. */
  dispose?(): void | Promise<void>;
}

/** Reads and writes the schema version a driver records in its data, without opening a store. */
export interface SchemaProbe {
  /** The newest schema version this driver knows: a store opened on fresh data records it. */
  readonly latest: number;
  /** The version recorded in the data now. */
  read(): number | Promise<number>;
  /** Records `version` in the data (no store is open on it), as a newer release of the driver would have. */
  write(version: number): void | Promise<void>;
}

/**
 * The areas of the driver suite; a driver may declare any of them unsupported.
 * - `jobs`: insert, claim order, complete/fail/extend/release, cancel, retry, reap, promote, purge, retention, get, list.
 * - `queues`: the queue rows (upsert, get, list, pause, the row an insert creates) and queue stats.
 * - `tokens`: API tokens.
 * - `cluster`: the optional methods of shared stores (worker registry, leadership, vacuum, process snapshots).
 * - `notify`: `onReady` wake-ups across stores (capability `crossProcessNotify`).
 * - `migrations`: the schema version, opening data twice, refusing data of a newer version.
 * - `errors`: a closed store refuses calls; unreachable or full data gives StoreUnavailableError.
 * - `closed-error`: a closed store refuses every call with ClosedError in particular.
 * - `schedules`: cron and repeat schedules (ScheduleStore): the rows, and one firing per slot.
 */
export type DriverArea = 'jobs' | 'queues' | 'tokens' | 'cluster' | 'notify' | 'migrations' | 'errors' | 'closed-error' | 'rate-limits' | 'schedules';

/** Areas a driver does not support, and why: the tests are reported as skipped with this reason. */
export interface DriverSkip {
  reason: string;
  areas: readonly DriverArea[];
}

export interface DriverConformanceOptions {
  /**
   * What the driver declares unsupported. Optional Store methods a store lacks, a capability it
   * does not have, data it cannot share or probe: those tests are skipped on their own, with
   * the reason printed; declare here only what the suite cannot see.
   */
  skip?: DriverSkip | readonly DriverSkip[];
}
