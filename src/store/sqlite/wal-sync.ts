import { closeSync, fdatasync, openSync } from 'node:fs';
import { StoreUnavailableError } from '../../core/errors.ts';

/** What the group commit waits on before it tells a durable write's caller "done". */
export interface WalSyncer {
  /** Resolves once every byte written to the WAL before the call is on disk. */
  sync(): Promise<void>;
  /** Waits for the syncs under way, then lets go of the file. */
  close(): Promise<void>;
}

/**
 * Syncs a SQLite database's write-ahead log from libuv's thread pool, so that the event loop
 * never waits on an fsync. The connection commits with `synchronous = NORMAL` (SQLite writes the
 * WAL and syncs it only before a checkpoint); a commit whose caller must hear "durable" then asks
 * for a sync, and is answered once an fdatasync of the WAL file that began after its commit has
 * finished. The file's data is the same whichever descriptor syncs it, and every frame of the
 * commit precedes the sync in the file, so a synced commit survives power loss as it does with
 * `synchronous = FULL`.
 *
 * Commits that ask while a sync runs share the next one (one fsync for all of them, however many
 * commits came meanwhile): group commit across turns of the event loop, not only within one.
 */
export class WalSync implements WalSyncer {
  readonly #path: string;
  #fd: number | null = null;
  /** The sync running now; a commit made while it runs is not covered by it. */
  #running: Promise<void> | null = null;
  /** The sync that starts when the running one ends, shared by every commit made meanwhile. */
  #next: Promise<void> | null = null;
  /** fdatasync calls so far (for tests and metrics). */
  syncs = 0;

  /** `walPath`: the database's `-wal` file. */
  constructor(walPath: string) {
    this.#path = walPath;
  }

  sync(): Promise<void> {
    if (this.#running === null) return this.#start();
    this.#next ??= this.#running.then(
      () => this.#startNext(),
      () => this.#startNext(),
    );
    return this.#next;
  }

  async close(): Promise<void> {
    await Promise.allSettled([this.#running, this.#next]);
    if (this.#fd !== null) closeSync(this.#fd);
    this.#fd = null;
  }

  #startNext(): Promise<void> {
    this.#next = null;
    return this.#start();
  }

  #start(): Promise<void> {
    const run = new Promise<void>((resolve, reject) => {
      let fd: number | null;
      try {
        fd = this.#open();
      } catch (err) {
        reject(syncError(err));
        return;
      }
      // No WAL file yet: nothing was written to it.
      if (fd === null) return resolve();
      this.syncs++;
      fdatasync(fd, (err) => (err ? reject(syncError(err)) : resolve()));
    });
    this.#running = run;
    const done = () => {
      if (this.#running === run) this.#running = null;
    };
    run.then(done, done);
    return run;
  }

  /**
   * The WAL file's descriptor, opened at the first sync and kept: SQLite deletes the file only when
   * the last connection to the database closes, and this store's stays open while it syncs. Null
   * while there is no file yet (nothing written to it, nothing to sync).
   */
  #open(): number | null {
    if (this.#fd !== null) return this.#fd;
    try {
      this.#fd = openSync(this.#path, 'r');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw err;
    }
    return this.#fd;
  }
}

function syncError(err: unknown): StoreUnavailableError {
  return new StoreUnavailableError(`cannot sync the database's write-ahead log (${(err as Error)?.message ?? String(err)}); the write may not be on disk: check the disk and retry`, { cause: err });
}
