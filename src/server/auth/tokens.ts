import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { systemClock, type Clock } from '../../core/clock.ts';
import { InvalidArgumentError } from '../../core/errors.ts';
import { checkLimit, describe } from '../../core/limits.ts';
import type { Store, TokenRow } from '../../store/store.ts';
import { parseScope } from './scopes.ts';

/**
 * API tokens: `spool_<id>_<secret>`, where `id` is 12 hex characters (the row's key, so
 * verifying is one primary-key read) and `secret` is 32 random bytes in base64url.
 * The store keeps only the SHA-256 of the whole text. A fast hash is right here: a
 * token has 256 random bits, so there is nothing to guess and no need for a slow
 * password hash; anyone who reads the table still cannot use what is in it.
 */

const TOKEN_RE = /^spool_([0-9a-f]{12})_([A-Za-z0-9_-]{43})$/;
/** Longest token name (a label for people). */
export const TOKEN_NAME_MAX_CHARS = 128;
/** Most scopes on one token. */
export const TOKEN_SCOPES_MAX = 100;

/** What `createToken` returns; `token` is shown once and never stored. */
export interface CreatedToken {
  id: string;
  name: string;
  /** The token text to send as `Authorization: Bearer <token>`. */
  token: string;
  scopes: string[];
  createdAt: number;
  /** When it stops being accepted (Unix ms), or null: never. */
  expiresAt: number | null;
}

/**
 * Creates a token with the given scopes and saves its hash. With `ttlMs` (bounded by the
 * limit `tokenTtlMs`; 0 or none: never), brokers refuse it from `createdAt + ttlMs` on.
 * @throws InvalidArgumentError for a bad scope, no scope, a bad name or a TTL out of bounds.
 * @example
 * const { token } = await createToken(store, { name: 'ci', scopes: ['publish:orders.*'], ttlMs: 30 * 86_400_000 });
 */
export async function createToken(
  store: Store,
  input: { name?: string | undefined; scopes: readonly string[]; ttlMs?: number | undefined },
  clock: Clock = systemClock,
): Promise<CreatedToken> {
  const name = input.name ?? '';
  if (typeof name !== 'string' || name.length > TOKEN_NAME_MAX_CHARS) {
    throw new InvalidArgumentError('name', `token name must be a string of at most ${TOKEN_NAME_MAX_CHARS} characters (got ${describe(name)})`);
  }
  if (input.scopes.length === 0) throw new InvalidArgumentError('scopes', 'a token needs at least one scope, e.g. publish:orders.* or admin');
  if (input.scopes.length > TOKEN_SCOPES_MAX) throw new InvalidArgumentError('scopes', `a token has at most ${TOKEN_SCOPES_MAX} scopes (got ${input.scopes.length})`);
  const scopes = [...new Set(input.scopes.map((s) => parseScope(s).text))];
  const ttlMs = checkLimit('tokenTtlMs', input.ttlMs, 'ttlMs');
  const id = randomBytes(6).toString('hex');
  const token = `spool_${id}_${randomBytes(32).toString('base64url')}`;
  const createdAt = clock.now();
  const expiresAt = ttlMs === 0 ? null : createdAt + ttlMs;
  await store.tokensInsert({ id, name, hash: hashToken(token), scopes, createdAt, expiresAt });
  return { id, name, token, scopes, createdAt, expiresAt };
}

/** Whether a stored token has expired at `now`. */
export function isExpired(row: { expiresAt: number | null }, now: number): boolean {
  return row.expiresAt !== null && now >= row.expiresAt;
}

/**
 * The stored row of a presented token, or null when the text is not a Spool token, or
 * no token with its id exists (never issued, or revoked), or the secret is wrong. An
 * expired token is returned like any other: the caller checks `expiresAt` (see isExpired),
 * so it can say the token expired rather than that it is unknown.
 */
export async function verifyToken(store: Store, token: string): Promise<TokenRow | null> {
  const id = tokenIdOf(token);
  if (id === null) return null;
  const row = await store.tokenGet(id);
  if (!row) return null;
  const presented = Buffer.from(hashToken(token), 'hex');
  const stored = Buffer.from(row.hash, 'hex');
  // Constant-time comparison, so response times say nothing about how much of the hash matched.
  return stored.length === presented.length && timingSafeEqual(stored, presented) ? row : null;
}

/** The id inside a token's text, or null when the text is not a Spool token. */
export function tokenIdOf(token: string): string | null {
  return TOKEN_RE.exec(token)?.[1] ?? null;
}

/** SHA-256 of the whole token text, hex: what the store keeps. */
export function hashToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}
