import { systemClock, type Clock } from '../../core/clock.ts';
import { InvalidArgumentError, UnauthorizedError } from '../../core/errors.ts';
import { checkLimit } from '../../core/limits.ts';
import type { Store } from '../../store/store.ts';
import { ALL_ACCESS, parseScope, principalOf, type Principal, type Scope } from './scopes.ts';
import { hashToken, verifyToken } from './tokens.ts';

/**
 * When tokens are needed:
 * - `auto` (default): as soon as the store holds at least one token, so creating the
 *   first one with `spool token create` turns authentication on for every broker sharing
 *   the store (and revoking the last one turns it off again);
 * - `required`: always; with no token in the store, every request is refused;
 * - `off`: never; every request may do everything.
 */
export type AuthMode = 'auto' | 'required' | 'off';

/** How an Authenticator checks tokens. */
export interface AuthenticatorOptions {
  /** Default `auto`. */
  mode?: AuthMode;
  /**
   * How long a verified token, and the `auto` mode's "does any token exist", are trusted
   * before the store is asked again (bounded by `tokenCacheMs`; default 5 s). A revoked
   * token keeps working on a broker that verified it for at most this long.
   */
  cacheMs?: number;
  /** Most verified tokens remembered at once; past it the oldest verification is forgotten. Default 10,000. */
  cacheMaxEntries?: number;
  clock?: Clock;
}

/** Default of `cacheMaxEntries`: plenty for the tokens of one deployment, and a bound on memory. */
export const TOKEN_CACHE_MAX_ENTRIES = 10_000;

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
 * token per `cacheMs`, not once per request.
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
  readonly #cache = new Map<string, { principal: Principal; expiresAt: number }>();
  /** Verifications in flight, so a burst of requests with one token reads the store once. */
  readonly #pending = new Map<string, Promise<Principal | null>>();
  #exists: { value: boolean; expiresAt: number } | null = null;
  #existsPending: Promise<boolean> | null = null;

  constructor(store: Store, options: AuthenticatorOptions = {}) {
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

  /** Whether requests need a token now. `auto` asks the store at most once per `cacheMs`. */
  async enforced(): Promise<boolean> {
    if (this.mode !== 'auto') return this.mode === 'required';
    const now = this.#clock.now();
    if (this.#exists && now < this.#exists.expiresAt) return this.#exists.value;
    this.#existsPending ??= this.#store.tokensExist().then(
      (value) => {
        this.#exists = { value, expiresAt: this.#clock.now() + this.cacheMs };
        this.#existsPending = null;
        return value;
      },
      (err: unknown) => {
        // A store that cannot answer fails the request (503): never open up because of an outage.
        this.#existsPending = null;
        throw err;
      },
    );
    return this.#existsPending;
  }

  /**
   * The principal for a request's `Authorization` header (`Bearer <token>`): every
   * permission when tokens are not enforced, else the token's scopes.
   * @throws UnauthorizedError when a token is needed and the header has none, or an unknown or revoked one.
   */
  async authenticate(authorization: string | undefined): Promise<Principal> {
    if (!(await this.enforced())) return ALL_ACCESS;
    if (authorization === undefined || authorization.trim() === '') throw new UnauthorizedError('no API token was sent');
    const match = /^\s*Bearer\s+(\S+)\s*$/i.exec(authorization);
    if (!match) throw new UnauthorizedError('the Authorization header is not "Bearer <token>"');
    const principal = await this.#verify(match[1]!);
    if (!principal) throw new UnauthorizedError('the API token is unknown or revoked');
    return principal;
  }

  /** Forgets every cached verification and the `auto` mode's answer (e.g. after revoking in this process). */
  clear(): void {
    this.#cache.clear();
    this.#exists = null;
  }

  async #verify(token: string): Promise<Principal | null> {
    const key = hashToken(token);
    const cached = this.#cache.get(key);
    if (cached && this.#clock.now() < cached.expiresAt) return cached.principal;
    if (cached) this.#cache.delete(key);
    let pending = this.#pending.get(key);
    if (!pending) {
      pending = verifyToken(this.#store, token)
        .then((row) => {
          if (!row) return null; // not cached: a later request with the same text asks the store again
          const principal = principalOf(row.id, row.scopes.flatMap(parsed));
          this.#remember(key, principal);
          return principal;
        })
        .finally(() => this.#pending.delete(key));
      this.#pending.set(key, pending);
    }
    return pending;
  }

  #remember(key: string, principal: Principal): void {
    if (this.cacheMs === 0) return;
    while (this.#cache.size >= this.#cacheMaxEntries) this.#cache.delete(this.#cache.keys().next().value!);
    this.#cache.set(key, { principal, expiresAt: this.#clock.now() + this.cacheMs });
  }
}

/** A stored scope, or none if it no longer parses: a scope this version cannot read grants nothing. */
function parsed(text: string): Scope[] {
  try {
    return [parseScope(text)];
  } catch {
    return [];
  }
}
