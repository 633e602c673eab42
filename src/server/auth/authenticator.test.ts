import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { ManualClock } from '../../core/clock.ts';
import { InvalidArgumentError, StoreUnavailableError, UnauthorizedError } from '../../core/errors.ts';
import type { Store } from '../../store/store.ts';
import { SqliteStore } from '../../store/sqlite/sqlite-store.ts';
import { Authenticator, LAST_USED_MIN_INTERVAL_MS } from './authenticator.ts';
import { ALL_ACCESS } from './scopes.ts';
import { createToken } from './tokens.ts';

const dir = mkdtempSync(join(tmpdir(), 'spool-auth-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;

async function setup(t: { after: (fn: () => Promise<void>) => void }) {
  const store = new SqliteStore({ path: join(dir, `a${n++}.db`), durability: 'no-fsync' });
  t.after(() => store.close());
  return { store, clock: new ManualClock() };
}

/** `store` with some methods replaced; the others run on the store itself (its private fields need it as `this`). */
function wrap(store: Store, over: Partial<Record<keyof Store, unknown>>): Store {
  return new Proxy(store, {
    get: (target, key) => {
      if (Object.hasOwn(over, key)) return over[key as keyof Store];
      const value = Reflect.get(target, key) as unknown;
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}

const unauthorized = (pattern: RegExp) => (e: Error) => e instanceof UnauthorizedError && pattern.test(e.message) && /Authorization: Bearer <token>/.test(e.message) && /spool token create/.test(e.message);

describe('Authenticator', () => {
  it('off: every request may do everything, whatever it sends', async (t) => {
    const { store } = await setup(t);
    await createToken(store, { scopes: ['publish:x'] });
    const auth = new Authenticator(store, { mode: 'off' });
    assert.equal(await auth.enforced(), false);
    for (const header of [undefined, '', 'Bearer nonsense']) assert.equal(await auth.authenticate(header), ALL_ACCESS);
  });

  it('required: a valid token always, even before any exists', async (t) => {
    const { store } = await setup(t);
    const auth = new Authenticator(store, { mode: 'required' });
    assert.equal(await auth.enforced(), true);
    await assert.rejects(auth.authenticate(undefined), unauthorized(/no API token was sent/));
    await assert.rejects(auth.authenticate('Basic dXNlcjpwdw=='), unauthorized(/not "Bearer <token>"/));
    await assert.rejects(auth.authenticate('Bearer spool_000000000000_' + 'A'.repeat(43)), unauthorized(/unknown or revoked/));
    const { id, token } = await createToken(store, { scopes: ['publish:orders.*'] });
    const principal = await auth.authenticate(`Bearer ${token}`);
    assert.equal(principal.tokenId, id);
    assert.deepEqual(principal.scopes.map((s) => s.text), ['publish:orders.*']);
    assert.equal(principal.can('publish', 'orders.eu'), true);
    assert.equal(principal.can('consume', 'orders.eu'), false);
    assert.equal((await auth.authenticate(`bearer   ${token} `)).tokenId, id, 'the scheme is case-insensitive');
  });

  it('auto: open while the store has no token; enforced within cacheMs of the first one', async (t) => {
    const { store, clock } = await setup(t);
    const auth = new Authenticator(store, { clock });
    assert.equal(auth.mode, 'auto');
    assert.equal(await auth.authenticate(undefined), ALL_ACCESS);
    const { token } = await createToken(store, { scopes: ['consume:*'] }); // as `spool token create` would, from another process
    assert.equal(await auth.enforced(), false, 'the answer is cached for cacheMs');
    await clock.advance(5_000);
    assert.equal(await auth.enforced(), true);
    await assert.rejects(auth.authenticate(undefined), UnauthorizedError);
    assert.equal((await auth.authenticate(`Bearer ${token}`)).can('consume', 'anything'), true);
  });

  it('auto: revoking the last token keeps tokens enforced, on this broker and on a new one; only off opens up', async (t) => {
    const { store, clock } = await setup(t);
    const running = new Authenticator(store, { clock, cacheMs: 0 });
    const { id, token } = await createToken(store, { scopes: ['admin'] });
    assert.equal((await running.authenticate(`Bearer ${token}`)).tokenId, id);
    await store.tokensDelete([id]);
    assert.equal(await store.tokensExist(), false);
    await assert.rejects(running.authenticate(undefined), unauthorized(/no API token was sent/));
    await assert.rejects(running.authenticate(`Bearer ${token}`), unauthorized(/unknown or revoked/));
    const started = new Authenticator(store, { clock }); // a broker started after the revoke: nothing cached
    assert.equal(await started.enforced(), true);
    await assert.rejects(started.authenticate(undefined), UnauthorizedError);
    assert.equal(await new Authenticator(store, { mode: 'off' }).authenticate(undefined), ALL_ACCESS);
  });

  it('auto: once the store has had a token, the answer is kept for good: the store is not asked again', async (t) => {
    const { store, clock } = await setup(t);
    let asked = 0;
    const counting = wrap(store, { tokensEnabled: () => (asked++, store.tokensEnabled()) });
    const auth = new Authenticator(counting, { clock, cacheMs: 1_000 });
    assert.equal(await auth.enforced(), false);
    assert.equal(await auth.enforced(), false);
    assert.equal(asked, 1, 'no token yet: asked once per cacheMs');
    await createToken(store, { scopes: ['admin'] });
    await clock.advance(1_000);
    assert.equal(await auth.enforced(), true);
    assert.equal(asked, 2);
    await clock.advance(60_000);
    assert.equal(await auth.enforced(), true);
    assert.equal(asked, 2, 'enabled for good: never asked again');
  });

  it('an expired token is refused with 401, saying when it expired and to make a new one; also when it was cached', async (t) => {
    const { store, clock } = await setup(t);
    const auth = new Authenticator(store, { mode: 'required', clock, cacheMs: 5_000 });
    const { id, token, expiresAt } = await createToken(store, { scopes: ['admin'], ttlMs: 60_000 }, clock);
    assert.equal(expiresAt, clock.now() + 60_000);
    await clock.advance(59_999);
    assert.equal((await auth.authenticate(`Bearer ${token}`)).tokenId, id, 'valid until its last millisecond (and now cached)');
    await clock.advance(1);
    const iso = new Date(expiresAt!).toISOString();
    const expired = unauthorized(new RegExp(`^the API token ${id} expired at ${iso.replace(/[.]/g, '\\.')} \\(create a new one to replace it\\)`));
    await assert.rejects(auth.authenticate(`Bearer ${token}`), expired, 'the cached verification ends at the expiry');
    await clock.advance(10_000);
    await assert.rejects(auth.authenticate(`Bearer ${token}`), expired, 'read from the store again: still expired');
    await assert.rejects(new Authenticator(store, { mode: 'required', clock }).authenticate(`Bearer ${token}`), expired, 'a fresh broker says the same');
    const forged = token.slice(0, -1) + (token.at(-1) === 'A' ? 'B' : 'A');
    await assert.rejects(auth.authenticate(`Bearer ${forged}`), unauthorized(/unknown or revoked/), 'a wrong secret learns nothing about the expiry');
  });

  it('records the last use of a token at most once per interval, whatever the number of requests', async (t) => {
    const { store, clock } = await setup(t);
    let writes = 0;
    const counting = wrap(store, {
      tokensMarkUsed: (uses: { id: string; at: number }[]) => (writes++, store.tokensMarkUsed(uses)),
    });
    for (const cacheMs of [5_000, 0]) {
      const auth = new Authenticator(counting, { mode: 'required', clock, cacheMs });
      const { id, token } = await createToken(store, { scopes: ['admin'] });
      writes = 0;
      const first = clock.now();
      await Promise.all(Array.from({ length: 20 }, () => auth.authenticate(`Bearer ${token}`)));
      assert.equal(writes, 1, `cacheMs ${cacheMs}: one write for a burst`);
      assert.equal((await store.tokenGet(id))!.lastUsedAt, first, 'written before the first request was answered');
      const interval = Math.max(cacheMs, LAST_USED_MIN_INTERVAL_MS);
      await clock.advance(interval - 1);
      await auth.authenticate(`Bearer ${token}`);
      assert.equal(writes, 1, `cacheMs ${cacheMs}: none within the interval`);
      await clock.advance(1);
      await auth.authenticate(`Bearer ${token}`);
      assert.equal(writes, 2, `cacheMs ${cacheMs}: one more once the interval is over`);
      assert.equal((await store.tokenGet(id))!.lastUsedAt, first + interval);
    }
  });

  it('a failed write of the last use fails no request', async (t) => {
    const { store } = await setup(t);
    const failing = wrap(store, { tokensMarkUsed: () => Promise.reject(new StoreUnavailableError('down')) });
    const { id, token } = await createToken(store, { scopes: ['admin'] });
    assert.equal((await new Authenticator(failing, { mode: 'required' }).authenticate(`Bearer ${token}`)).tokenId, id);
  });

  it('auto: a store that cannot answer refuses the request instead of opening up', async () => {
    const failing = { tokensEnabled: () => Promise.reject(new StoreUnavailableError('down')) } as unknown as Store;
    await assert.rejects(new Authenticator(failing).authenticate(undefined), StoreUnavailableError);
  });

  it('a revoked token keeps working for at most cacheMs; with cacheMs 0, not at all', async (t) => {
    const { store, clock } = await setup(t);
    const cached = new Authenticator(store, { mode: 'required', clock, cacheMs: 1_000 });
    const uncached = new Authenticator(store, { mode: 'required', clock, cacheMs: 0 });
    const { id, token } = await createToken(store, { scopes: ['admin'] });
    await cached.authenticate(`Bearer ${token}`);
    await uncached.authenticate(`Bearer ${token}`);
    await store.tokensDelete([id]);
    assert.equal((await cached.authenticate(`Bearer ${token}`)).tokenId, id);
    await assert.rejects(uncached.authenticate(`Bearer ${token}`), unauthorized(/unknown or revoked/));
    await clock.advance(999);
    assert.equal((await cached.authenticate(`Bearer ${token}`)).tokenId, id);
    await clock.advance(1);
    await assert.rejects(cached.authenticate(`Bearer ${token}`), UnauthorizedError);
  });

  it('reads the store once for a burst of requests with one token, and once per cacheMs after', async (t) => {
    const { store, clock } = await setup(t);
    let reads = 0;
    const counting = wrap(store, {
      tokenGet: (id: string) => (reads++, store.tokenGet(id)),
    });
    const auth = new Authenticator(counting, { mode: 'required', clock });
    const { token } = await createToken(store, { scopes: ['admin'] });
    await Promise.all(Array.from({ length: 20 }, () => auth.authenticate(`Bearer ${token}`)));
    assert.equal(reads, 1);
    await auth.authenticate(`Bearer ${token}`);
    assert.equal(reads, 1);
    await clock.advance(5_000);
    await auth.authenticate(`Bearer ${token}`);
    assert.equal(reads, 2);
  });

  it('the cache is bounded: past cacheMaxEntries, the oldest verification is forgotten', async (t) => {
    const { store, clock } = await setup(t);
    const auth = new Authenticator(store, { mode: 'required', clock, cacheMaxEntries: 2 });
    const tokens = [];
    for (let i = 0; i < 3; i++) tokens.push(await createToken(store, { scopes: ['admin'] }));
    for (const { token } of tokens) await auth.authenticate(`Bearer ${token}`);
    await store.tokensDelete(tokens.map((x) => x.id));
    await assert.rejects(auth.authenticate(`Bearer ${tokens[0]!.token}`), UnauthorizedError, 'evicted, so asked the store again');
    assert.equal((await auth.authenticate(`Bearer ${tokens[2]!.token}`)).tokenId, tokens[2]!.id, 'still cached');
  });

  it('validates its options', async (t) => {
    const { store } = await setup(t);
    assert.throws(() => new Authenticator(store, { cacheMs: 120_000 }), /cacheMs must be at most 60000/);
    assert.throws(() => new Authenticator(store, { mode: 'sometimes' as never }), InvalidArgumentError);
    assert.throws(() => new Authenticator(store, { cacheMaxEntries: 0 }), /cacheMaxEntries/);
  });
});
