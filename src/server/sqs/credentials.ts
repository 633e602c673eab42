/**
 * SQS credentials of Spool API tokens. The access key id names the token (`SPOOL` and its id in
 * capitals); the secret access key is derived from the token, as HMAC-SHA256 of a fixed label
 * keyed with the SHA-256 the store keeps of it. SigV4 is a shared-secret scheme, so the broker
 * must be able to compute the secret: it does so from the stored hash, which is why only tokens
 * with the `sqs` scope are accepted here (docs/sqs.md says what that means for the store).
 */
import { createHmac } from 'node:crypto';
import type { Clock } from '../../core/clock.ts';
import type { Store, TokenRow } from '../../store/store.ts';
import { isExpired, hashToken, tokenIdOf } from '../auth/tokens.ts';
import { parseScope, principalOf, type Principal, type Scope } from '../auth/scopes.ts';
import { SqsError } from './errors.ts';

const KEY_PREFIX = 'SPOOL';
const SECRET_LABEL = 'spool-sqs-secret-v1';

/** The SQS access key id of a token id. */
export const accessKeyIdOf = (tokenId: string): string => KEY_PREFIX + tokenId.toUpperCase();

/** The token id an access key id names, or null when it names none. */
export function tokenIdOfAccessKey(accessKeyId: string): string | null {
  const m = /^SPOOL([0-9A-F]{12})$/.exec(accessKeyId);
  return m ? m[1]!.toLowerCase() : null;
}

/** The secret access key for a token, from the token's stored hash (hex). */
export const secretOfHash = (hash: string): string => createHmac('sha256', Buffer.from(hash, 'hex')).update(SECRET_LABEL).digest('base64url');

/**
 * The SQS credentials of a token's text: what `spool token create --sqs` prints.
 * @example
 * const { accessKeyId, secretAccessKey } = sqsCredentials(created.token);
 */
export function sqsCredentials(token: string): { accessKeyId: string; secretAccessKey: string } {
  const id = tokenIdOf(token);
  if (id === null) throw new Error('not a Spool API token (spool_<id>_<secret>)');
  return { accessKeyId: accessKeyIdOf(id), secretAccessKey: secretOfHash(hashToken(token)) };
}

interface Known {
  row: TokenRow | null;
  /** The row's secret access key, derived once (an HMAC) rather than per request. */
  secret: string | null;
  until: number;
}

/**
 * Finds the secret and the principal of an access key id, reading each token from the store at
 * most once per `cacheMs` (the broker's token cache time: a revoked token keeps working at most
 * that long, as on the other transports).
 */
export class SqsCredentials {
  readonly #store: Store;
  readonly #clock: Clock;
  readonly #cacheMs: number;
  readonly #known = new Map<string, Known>();
  readonly #principals = new WeakMap<TokenRow, Principal>();

  constructor(store: Store, clock: Clock, cacheMs: number) {
    this.#store = store;
    this.#clock = clock;
    this.#cacheMs = cacheMs;
  }

  /**
   * The secret to check a signature with and the principal it grants.
   * @throws SqsError InvalidClientTokenId for an unknown, revoked or expired token, or one without the `sqs` scope.
   */
  async lookup(accessKeyId: string): Promise<{ secret: string; principal: Principal; tokenId: string }> {
    const id = tokenIdOfAccessKey(accessKeyId);
    if (id === null) throw new SqsError('InvalidClientTokenId', 'The security token included in the request is invalid: the access key id is not SPOOL followed by a Spool API token id (see docs/sqs.md)');
    const now = this.#clock.now();
    let known = this.#known.get(id);
    if (!known || now >= known.until) {
      const row = await this.#store.tokenGet(id);
      known = { row, secret: row ? secretOfHash(row.hash) : null, until: now + this.#cacheMs };
      if (this.#cacheMs > 0) {
        if (this.#known.size >= 10_000) this.#known.delete(this.#known.keys().next().value!);
        this.#known.set(id, known);
      }
    }
    const row = known.row;
    if (!row) throw new SqsError('InvalidClientTokenId', 'The security token included in the request is invalid: no such API token (never created, or revoked)');
    if (isExpired(row, now)) throw new SqsError('InvalidClientTokenId', `The security token included in the request is expired: the API token ${id} expired at ${new Date(row.expiresAt!).toISOString()}`);
    let principal = this.#principals.get(row);
    if (!principal) {
      const scopes = row.scopes.flatMap(parsed);
      if (!scopes.some((s) => s.kind === 'sqs')) {
        throw new SqsError('InvalidClientTokenId', `The security token included in the request is invalid: the API token ${id} has no sqs scope (create one with spool token create --sqs)`);
      }
      principal = principalOf(id, scopes);
      this.#principals.set(row, principal);
    }
    return { secret: known.secret!, principal, tokenId: id };
  }
}

function parsed(text: string): Scope[] {
  try {
    return [parseScope(text)];
  } catch {
    return [];
  }
}
