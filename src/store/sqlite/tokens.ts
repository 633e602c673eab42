import type { DatabaseSync, StatementSync } from 'node:sqlite';
import type { NewTokenRow, TokenInfo, TokenRow, TokenUse } from '../store.ts';
import type { GroupCommit } from './group-commit.ts';

interface TokenDbRow {
  id: string;
  name: string;
  hash: string;
  scopes: string;
  created_at: number;
  expires_at: number | null;
  last_used_at: number | null;
}

/** The `settings` row that says this store has had a token (schema version 4). */
export const TOKENS_ENABLED_SETTING = 'tokens_enabled_at';

/**
 * The `tokens` table of the SQLite store (the store's token methods delegate here), and the
 * `settings` row that records that tokens were enabled. Writes go through the store's group
 * commit, like every other write, so they share its transactions and its durability; reads
 * run directly.
 */
export class SqliteTokens {
  readonly #group: GroupCommit;
  readonly #s: Record<'insert' | 'enable' | 'list' | 'delete' | 'get' | 'exist' | 'enabled' | 'used', StatementSync>;

  constructor(db: DatabaseSync, group: GroupCommit) {
    this.#group = group;
    this.#s = {
      insert: db.prepare(`INSERT INTO tokens (id, name, hash, scopes, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?)`),
      enable: db.prepare(`INSERT OR IGNORE INTO settings (name, value) VALUES ('${TOKENS_ENABLED_SETTING}', ?)`),
      list: db.prepare(`SELECT id, name, scopes, created_at, expires_at, last_used_at FROM tokens ORDER BY created_at, id`),
      delete: db.prepare(`DELETE FROM tokens WHERE id = ?`),
      get: db.prepare(`SELECT * FROM tokens WHERE id = ?`),
      exist: db.prepare(`SELECT EXISTS (SELECT 1 FROM tokens) AS found`),
      enabled: db.prepare(`SELECT EXISTS (SELECT 1 FROM settings WHERE name = '${TOKENS_ENABLED_SETTING}') AS found`),
      // Only ever forward: a late write of an older use leaves a newer one in place.
      used: db.prepare(`UPDATE tokens SET last_used_at = ?1 WHERE id = ?2 AND (last_used_at IS NULL OR last_used_at < ?1)`),
    };
  }

  /** Saves a new token and, in the same transaction, the record that tokens are enabled. */
  insert(row: NewTokenRow): Promise<void> {
    return this.#group.submit(() => {
      this.#s.insert.run(row.id, row.name, row.hash, JSON.stringify(row.scopes), row.createdAt, row.expiresAt ?? null);
      this.#s.enable.run(String(row.createdAt));
    });
  }

  /** Every token without its hash, oldest first. */
  async list(): Promise<TokenInfo[]> {
    return (this.#s.list.all() as unknown as Omit<TokenDbRow, 'hash'>[]).map((r) => ({
      id: r.id, name: r.name, scopes: JSON.parse(r.scopes) as string[], createdAt: r.created_at, expiresAt: r.expires_at, lastUsedAt: r.last_used_at,
    }));
  }

  /** Deletes tokens; returns how many existed. The record that tokens are enabled stays. */
  delete(ids: readonly string[]): Promise<number> {
    return this.#group.submit(() => ids.reduce((n, id) => n + Number(this.#s.delete.run(id).changes), 0));
  }

  /** One token with its hash, or null. */
  async get(id: string): Promise<TokenRow | null> {
    const r = this.#s.get.get(id) as unknown as TokenDbRow | undefined;
    return r
      ? { id: r.id, name: r.name, hash: r.hash, scopes: JSON.parse(r.scopes) as string[], createdAt: r.created_at, expiresAt: r.expires_at, lastUsedAt: r.last_used_at }
      : null;
  }

  /** Whether any token exists. */
  async exist(): Promise<boolean> {
    return (this.#s.exist.get() as { found: number }).found === 1;
  }

  /** Whether a token was ever saved here. */
  async enabled(): Promise<boolean> {
    return (this.#s.enabled.get() as { found: number }).found === 1;
  }

  /** Moves each token's last use forward to the time given. */
  markUsed(uses: readonly TokenUse[]): Promise<void> {
    const latest = latestUses(uses);
    return this.#group.submit(() => {
      for (const [id, at] of latest) this.#s.used.run(at, id);
    });
  }
}

/** The latest use of each token among `uses`. */
function latestUses(uses: readonly TokenUse[]): Map<string, number> {
  const latest = new Map<string, number>();
  for (const { id, at } of uses) latest.set(id, Math.max(at, latest.get(id) ?? at));
  return latest;
}
