import type { OpenOptions } from '../../src/index.ts';
import type { TargetContext } from '../target.ts';
import { SpoolInProcessTarget } from './spool-base.ts';

/**
 * Spool embedded: producer, engine and worker in this one process, on the
 * SQLite store in a fresh data directory, with the default durability (`fsync`:
 * an acknowledged add has been synced to disk). Memory is this process's.
 * @example
 * const target = new SpoolEmbeddedTarget({ dataDir: '/tmp/spool-bench-x' });
 */
export class SpoolEmbeddedTarget extends SpoolInProcessTarget {
  readonly id = 'spool-embedded';
  readonly #dataDir: string;

  constructor(context: TargetContext) {
    super();
    this.#dataDir = context.dataDir;
  }

  protected openOptions(): OpenOptions {
    // Only the store is given: every other setting, durability included, is Spool's default.
    return { store: this.#dataDir };
  }

  durability(): string {
    return this.spool.store.capabilities.durability;
  }
}
