import type { NewTokenRow, Store, TokenInfo, TokenRow, TokenUse } from '../store.ts';
import type { PgContext } from './cluster.ts';

/**
 * The `tokens` table of the PostgreSQL store (the store's token methods delegate here), and
 * the `settings` row that records that tokens were enabled. Every process sharing the schema
 * sees the same tokens, so a token created or revoked by `spool token` reaches every broker.
 */

interface TokenDbRow {
  id: string;
  name: string;
  hash: string;
  scopes: string[];
  created_at: number;
  expires_at: number | null;
  last_used_at: number | null;
}

/** The `settings` row that says this schema has had a token (schema version 3). */
const TOKENS_ENABLED_SETTING = 'tokens_enabled_at';

/** Saves a new token (its hash, never the token) and, in the same statement, the record that tokens are enabled. */
export async function tokensInsert(ctx: PgContext<Store>, row: NewTokenRow): Promise<void> {
  await ctx.run(
    () => ctx.db.q(
      `WITH saved AS (
         INSERT INTO ${ctx.schema}.tokens (id, name, hash, scopes, created_at, expires_at) VALUES ($1, $2, $3, $4::text[], $5, $6) RETURNING created_at
       )
       INSERT INTO ${ctx.schema}.settings (name, value) SELECT '${TOKENS_ENABLED_SETTING}', created_at::text FROM saved ON CONFLICT (name) DO NOTHING`,
      [row.id, row.name, row.hash, row.scopes, row.createdAt, row.expiresAt ?? null],
    ),
    'save a token',
  );
}

/** Every token without its hash, oldest first. */
export async function tokensList(ctx: PgContext<Store>): Promise<TokenInfo[]> {
  const rows = await ctx.run(
    () => ctx.db.q(`SELECT id, name, scopes, created_at, expires_at, last_used_at FROM ${ctx.schema}.tokens ORDER BY created_at, id`),
    'list tokens',
  );
  return (rows as unknown as Omit<TokenDbRow, 'hash'>[]).map((r) => ({
    id: r.id, name: r.name, scopes: r.scopes, createdAt: r.created_at, expiresAt: r.expires_at, lastUsedAt: r.last_used_at,
  }));
}

/** Deletes tokens; returns how many existed. The record that tokens are enabled stays. */
export async function tokensDelete(ctx: PgContext<Store>, ids: readonly string[]): Promise<number> {
  if (ids.length === 0) return 0;
  return (await ctx.run(() => ctx.db.q(`DELETE FROM ${ctx.schema}.tokens WHERE id = ANY($1::text[])`, [ids]), 'revoke tokens')).count;
}

/** One token with its hash, or null. */
export async function tokenGet(ctx: PgContext<Store>, id: string): Promise<TokenRow | null> {
  const [r] = (await ctx.run(() => ctx.db.q(`SELECT * FROM ${ctx.schema}.tokens WHERE id = $1`, [id]), 'read a token')) as unknown as TokenDbRow[];
  return r ? { id: r.id, name: r.name, hash: r.hash, scopes: r.scopes, createdAt: r.created_at, expiresAt: r.expires_at, lastUsedAt: r.last_used_at } : null;
}

/** Whether any token exists. */
export async function tokensExist(ctx: PgContext<Store>): Promise<boolean> {
  const rows = await ctx.run(() => ctx.db.q(`SELECT EXISTS (SELECT 1 FROM ${ctx.schema}.tokens) AS found`), 'look for tokens');
  return rows[0]?.found === true;
}

/** Whether a token was ever saved in this schema. */
export async function tokensEnabled(ctx: PgContext<Store>): Promise<boolean> {
  const rows = await ctx.run(
    () => ctx.db.q(`SELECT EXISTS (SELECT 1 FROM ${ctx.schema}.settings WHERE name = '${TOKENS_ENABLED_SETTING}') AS found`),
    'look for tokens',
  );
  return rows[0]?.found === true;
}

/** Moves each token's last use forward to the time given (never back), in one statement. */
export async function tokensMarkUsed(ctx: PgContext<Store>, uses: readonly TokenUse[]): Promise<void> {
  if (uses.length === 0) return;
  const latest = new Map<string, number>();
  for (const { id, at } of uses) latest.set(id, Math.max(at, latest.get(id) ?? at));
  await ctx.run(
    () => ctx.db.q(
      `UPDATE ${ctx.schema}.tokens t SET last_used_at = u.at
         FROM unnest($1::text[], $2::bigint[]) AS u(id, at)
        WHERE t.id = u.id AND (t.last_used_at IS NULL OR t.last_used_at < u.at)`,
      [[...latest.keys()], [...latest.values()]],
    ),
    'record the use of tokens',
  );
}
