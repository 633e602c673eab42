import type { DatabaseSync, StatementSync } from 'node:sqlite';
import type { TokenInfo, TokenRow } from '../store.ts';
import type { GroupCommit } from './group-commit.ts';

interface TokenDbRow {
  id: string;
  name: string;
  hash: string;
  scopes: string;
  created_at: number;
}

/**
 * The `tokens` table of the SQLite store (the store's token methods delegate here).
 * Writes go through the store's group commit, like every other write, so they share
 * its transactions and its durability; reads run directly.
 */
export class SqliteTokens {
  readonly #group: GroupCommit;
  readonly #s: Record<'insert' | 'list' | 'delete' | 'get' | 'exist', StatementSync>;

  constructor(db: DatabaseSync, group: GroupCommit) {
    this.#group = group;
    this.#s = {
      insert: db.prepare(`INSERT INTO tokens (id, name, hash, scopes, created_at) VALUES (?, ?, ?, ?, ?)`),
      list: db.prepare(`SELECT id, name, scopes, created_at FROM tokens ORDER BY created_at, id`),
      delete: db.prepare(`DELETE FROM tokens WHERE id = ?`),
      get: db.prepare(`SELECT * FROM tokens WHERE id = ?`),
      exist: db.prepare(`SELECT EXISTS (SELECT 1 FROM tokens) AS found`),
    };
  }

  /** Saves a new token. */
  insert(row: TokenRow): Promise<void> {
    return this.#group.submit(() => {
      this.#s.insert.run(row.id, row.name, row.hash, JSON.stringify(row.scopes), row.createdAt);
    });
  }

  /** Every token without its hash, oldest first. */
  async list(): Promise<TokenInfo[]> {
    return (this.#s.list.all() as unknown as Omit<TokenDbRow, 'hash'>[]).map((r) => ({
      id: r.id, name: r.name, scopes: JSON.parse(r.scopes) as string[], createdAt: r.created_at,
    }));
  }

  /** Deletes tokens; returns how many existed. */
  delete(ids: readonly string[]): Promise<number> {
    return this.#group.submit(() => ids.reduce((n, id) => n + Number(this.#s.delete.run(id).changes), 0));
  }

  /** One token with its hash, or null. */
  async get(id: string): Promise<TokenRow | null> {
    const r = this.#s.get.get(id) as unknown as TokenDbRow | undefined;
    return r ? { id: r.id, name: r.name, hash: r.hash, scopes: JSON.parse(r.scopes) as string[], createdAt: r.created_at } : null;
  }

  /** Whether any token exists. */
  async exist(): Promise<boolean> {
    return (this.#s.exist.get() as { found: number }).found === 1;
  }
}
