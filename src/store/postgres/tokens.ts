import type { Store, TokenInfo, TokenRow } from '../store.ts';
import type { PgContext } from './cluster.ts';

/**
 * The `tokens` table of the PostgreSQL store (the store's token methods delegate here).
 * Every process sharing the schema sees the same tokens, so a token created or revoked
 * by `spool token` reaches every broker.
 */

interface TokenDbRow {
  id: string;
  name: string;
  hash: string;
  scopes: string[];
  created_at: number;
}

/** Saves a new token (its hash, never the token). */
export async function tokensInsert(ctx: PgContext<Store>, row: TokenRow): Promise<void> {
  await ctx.run(
    () => ctx.db.q(`INSERT INTO ${ctx.schema}.tokens (id, name, hash, scopes, created_at) VALUES ($1, $2, $3, $4::text[], $5)`, [
      row.id, row.name, row.hash, row.scopes, row.createdAt,
    ]),
    'save a token',
  );
}

/** Every token without its hash, oldest first. */
export async function tokensList(ctx: PgContext<Store>): Promise<TokenInfo[]> {
  const rows = await ctx.run(() => ctx.db.q(`SELECT id, name, scopes, created_at FROM ${ctx.schema}.tokens ORDER BY created_at, id`), 'list tokens');
  return (rows as unknown as Omit<TokenDbRow, 'hash'>[]).map((r) => ({ id: r.id, name: r.name, scopes: r.scopes, createdAt: r.created_at }));
}

/** Deletes tokens; returns how many existed. */
export async function tokensDelete(ctx: PgContext<Store>, ids: readonly string[]): Promise<number> {
  if (ids.length === 0) return 0;
  return (await ctx.run(() => ctx.db.q(`DELETE FROM ${ctx.schema}.tokens WHERE id = ANY($1::text[])`, [ids]), 'revoke tokens')).count;
}

/** One token with its hash, or null. */
export async function tokenGet(ctx: PgContext<Store>, id: string): Promise<TokenRow | null> {
  const [r] = (await ctx.run(() => ctx.db.q(`SELECT * FROM ${ctx.schema}.tokens WHERE id = $1`, [id]), 'read a token')) as unknown as TokenDbRow[];
  return r ? { id: r.id, name: r.name, hash: r.hash, scopes: r.scopes, createdAt: r.created_at } : null;
}

/** Whether any token exists. */
export async function tokensExist(ctx: PgContext<Store>): Promise<boolean> {
  const rows = await ctx.run(() => ctx.db.q(`SELECT EXISTS (SELECT 1 FROM ${ctx.schema}.tokens) AS found`), 'look for tokens');
  return rows[0]?.found === true;
}
