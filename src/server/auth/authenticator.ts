import { systemClock, type Clock } from '../../core/clock.ts';
import { InvalidArgumentError, UnauthorizedError } from '../../core/errors.ts';
import { checkLimit } from '../../core/limits.ts';
import { checkOptionKeys } from '../../core/options.ts';
import type { Store } from '../../store/store.ts';
import { ALL_ACCESS, parseScope, principalOf, type Principal, type Scope } from './scopes.ts';
import { hashToken, isExpired, verifyToken } from './tokens.ts';

/**
 * When tokens are needed:
 * - `auto` (default): as soon as the store has had a token, so creating the first one
 *   with `spool token create` turns authentication on for every broker sharing the store.
 *   It stays on when the last token is revoked (the store keeps a record that tokens were
 *   enabled, see Store.tokensEnabled): only mode `off` opens the broker again;
 * - `required`: always; with no token in the store, every request is refused;
 * - `off`: never; every request may do everything.
 */
export type AuthMode = 'auto' | 'required' | 'off';

/** How an Authenticator checks tokens. */
export interface AuthenticatorOptions {
  /** Default `auto`. */
  mode?: AuthMode;
  /**
   * How long a verified token, and the `auto` mode's "the store never had a token", are
   * trusted before the store is asked again (bounded by `tokenCacheMs`; default 5 s). A
   * revoked token keeps working on a broker that verified it for at most this long. A
   * token's last use is recorded in the store at most once per this interval (at least
   * `LAST_USED_MIN_INTERVAL_MS`, 1 s) per token.
   */
  cacheMs?: number;
  /** Most verified tokens remembered at once; past it the oldest verification is forgotten. Default 10,000. */
  cacheMaxEntries?: number;
  clock?: Clock;
}

/** Default of `cacheMaxEntries`: plenty for the tokens of one deployment, and a bound on memory. */
export const TOKEN_CACHE_MAX_ENTRIES = 10_000;

/**
 * Shortest interval between two writes of one token's last use by one broker, even with
 * `cacheMs` 0: a busy token costs one store write per interval, never one per request.
 */
export const LAST_USED_MIN_INTERVAL_MS = 1_000;

/** What the store said about a presented token: it is valid, or it expired at `expiredAt`. */
type Verdict = { ok: true; principal: Principal; expiresAt: number | null } | { ok: false; tokenId: string; expiredAt: number };

const MODES: readonly AuthMode[] = ['auto', 'required', 'off'];

/**
 * Checks a token sent as an `Authorization` header (or, on a WebSocket, in `hello`).
 * Resolves to what it allows; rejects with UnauthorizedError. With auth off it resolves
 * for any input, including none. {@link Authenticator.authenticate} is one.
 */
export type Authenticate = (authorization: string | undefined) => Promise<Principal>;

/**
 * Turns an `Authorization` header into a Principal, checking tokens against the store.
 * Verified tokens are cached for `cacheMs`, so a busy broker reads the store once per
 * token per `cacheMs`, not once per request; an expired token is refused, saying when it
 * expired; each accepted token's last use is written at most once per `cacheMs` (at least
 * 1 s), so `spool token list` shows it.
 * @example
 * const auth = new Authenticator(spool.store, { mode: 'required' });
 * const principal = await auth.authenticate(req.headers.authorization); // throws UnauthorizedError
 * principal.can('publish', 'orders.eu');
 */
export class Authenticator {
  /** When tokens are needed (see AuthMode). */
  readonly mode: AuthMode;
  /** How long a verification (and `auto`'s "any token?") is trusted. */
  readonly cacheMs: number;
  readonly #cacheMaxEntries: number;
  readonly #store: Store;
  readonly #clock: Clock;
  /** By SHA-256 of the token text, so raw tokens are not kept; Map order is verification order. */
  readonly #cache = new Map<string, { verdict: Verdict; until: number }>();
  /** Verifications in flight, so a burst of requests with one token reads the store once. */
  readonly #pending = new Map<string, Promise<Verdict | null>>();
  /** `auto`: the store's answer to "has it had a token?"; once true it stays true (the record is never cleared). */
  #enabled: { value: boolean; until: number } | null = null;
  #enabledPending: Promise<boolean> | null = null;
  /** When this broker last wrote each token's last use, by token id; Map order is write order. */
  readonly #usedAt = new Map<string, number>();

  constructor(store: Store, options: AuthenticatorOptions = {}) {
    checkOptionKeys(options, ['mode', 'cacheMs', 'cacheMaxEntries', 'clock'] satisfies (keyof AuthenticatorOptions)[], 'Authenticator');
    const mode = options.mode ?? 'auto';
    if (!MODES.includes(mode)) throw new InvalidArgumentError('mode', `auth mode must be one of ${MODES.join(', ')} (got ${JSON.stringify(mode)})`);
    this.mode = mode;
    this.cacheMs = checkLimit('tokenCacheMs', options.cacheMs, 'cacheMs');
    const max = options.cacheMaxEntries ?? TOKEN_CACHE_MAX_ENTRIES;
    if (!Number.isInteger(max) || max < 1) throw new InvalidArgumentError('cacheMaxEntries', `cacheMaxEntries must be a positive integer (got ${max})`);
    this.#cacheMaxEntries = max;
    this.#store = store;
    this.#clock = options.clock ?? systemClock;
  }

  /**
   * Whether requests need a token now. `auto` asks the store at most once per `cacheMs`
   * until the store has had a token, and never again after: that answer cannot change.
   */
  async enforced(): Promise<boolean> {
    if (this.mode !== 'auto') return this.mode === 'required';
    if (this.#enabled && (this.#enabled.value || this.#clock.now() < this.#enabled.until)) return this.#enabled.value;
    this.#enabledPending ??= this.#store.tokensEnabled().then(
      (value) => {
        this.#enabled = { value, until: this.#clock.now() + this.cacheMs };
        this.#enabledPending = null;
        return value;
      },
      (err: unknown) => {
        // A store that cannot answer fails the request (503): never open up because of an outage.
        this.#enabledPending = null;
        throw err;
      },
    );
    return this.#enabledPending;
  }

  /**
   * The principal for a request's `Authorization` header (`Bearer <token>`): every
   * permission when tokens are not enforced, else the token's scopes.
   * @throws UnauthorizedError when a token is needed and the header has none, or an unknown, revoked or expired one.
   */
  async authenticate(authorization: string | undefined): Promise<Principal> {
    if (!(await this.enforced())) return ALL_ACCESS;
    if (authorization === undefined || authorization.trim() === '') throw new UnauthorizedError('no API token was sent');
    const match = /^\s*Bearer\s+(\S+)\s*$/i.exec(authorization);
    if (!match) throw new UnauthorizedError('the Authorization header is not "Bearer <token>"');
    const verdict = await this.#verify(match[1]!);
    if (!verdict) throw new UnauthorizedError('the API token is unknown or revoked');
    if (!verdict.ok) throw expiredError(verdict.tokenId, verdict.expiredAt);
    const now = this.#clock.now();
    // A cached verification still ends at the token's expiry, to the millisecond.
    if (isExpired(verdict, now)) throw expiredError(verdict.principal.tokenId!, verdict.expiresAt!);
    await this.#noteUse(verdict.principal.tokenId!, now);
    return verdict.principal;
  }

  /** Forgets every cached verification and the `auto` mode's answer (e.g. after revoking in this process). */
  clear(): void {
    this.#cache.clear();
    this.#enabled = null;
  }

  async #verify(token: string): Promise<Verdict | null> {
    const key = hashToken(token);
    const cached = this.#cache.get(key);
    if (cached && this.#clock.now() < cached.until) return cached.verdict;
    if (cached) this.#cache.delete(key);
    let pending = this.#pending.get(key);
    if (!pending) {
      pending = verifyToken(this.#store, token)
        .then((row): Verdict | null => {
          if (!row) return null; // not cached: a later request with the same text asks the store again
          // An expiry never goes away, so an expired token's verdict is cached like a valid one.
          const verdict: Verdict = isExpired(row, this.#clock.now())
            ? { ok: false, tokenId: row.id, expiredAt: row.expiresAt! }
            : { ok: true, principal: principalOf(row.id, row.scopes.flatMap(parsed)), expiresAt: row.expiresAt };
          this.#remember(key, verdict);
          return verdict;
        })
        .finally(() => this.#pending.delete(key));
      this.#pending.set(key, pending);
    }
    return pending;
  }

  #remember(key: string, verdict: Verdict): void {
    if (this.cacheMs === 0) return;
    while (this.#cache.size >= this.#cacheMaxEntries) this.#cache.delete(this.#cache.keys().next().value!);
    this.#cache.set(key, { verdict, until: this.#clock.now() + this.cacheMs });
  }

  /**
   * Writes the token's last use, unless this broker did so within the interval: one write per
   * token per interval however busy the token is. The first request of an interval waits for
   * the write (so `spool token list` shows it once the response is out); a failed write fails
   * nothing: the last use is information, not a check.
   */
  async #noteUse(tokenId: string, now: number): Promise<void> {
    const last = this.#usedAt.get(tokenId);
    if (last !== undefined && now >= last && now - last < Math.max(this.cacheMs, LAST_USED_MIN_INTERVAL_MS)) return;
    this.#usedAt.delete(tokenId);
    while (this.#usedAt.size >= this.#cacheMaxEntries) this.#usedAt.delete(this.#usedAt.keys().next().value!);
    this.#usedAt.set(tokenId, now);
    await this.#store.tokensMarkUsed([{ id: tokenId, at: now }]).catch(() => {});
  }
}

/** The refusal of an expired token: which one, when it expired (UTC), and to make a new one. */
function expiredError(tokenId: string, expiredAt: number): UnauthorizedError {
  return new UnauthorizedError(`the API token ${tokenId} expired at ${new Date(expiredAt).toISOString()} (create a new one to replace it)`);
}

/** A stored scope, or none if it no longer parses: a scope this version cannot read grants nothing. */
function parsed(text: string): Scope[] {
  try {
    return [parseScope(text)];
  } catch {
    return [];
  }
}
