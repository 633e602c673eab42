import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ClosedError } from '../../../core/errors.ts';
import type { NewTokenRow, TokenRow } from '../../store.ts';
import { T, withStore, type DriverContext } from './harness.ts';

const row = (id: string, createdAt: number, scopes: string[] = ['publish:orders.*'], expiresAt: number | null = null): TokenRow => ({
  id, name: `token ${id}`, hash: `${id}`.padEnd(64, 'f'), scopes, createdAt, expiresAt, lastUsedAt: null,
});

/** What tokensInsert takes for `r`: a new token has no last use. */
const fresh = ({ lastUsedAt: _, ...r }: TokenRow): NewTokenRow => r;

/**
 * API tokens: insert, get, list (never the hash), delete (revoke), exist; expiry and last use;
 * the durable record that the store has had a token (tokensEnabled), which a revoke never clears.
 */
export function tokensArea(ctx: DriverContext): void {
  const skip = ctx.skip('tokens');
  describe('API tokens', () => {
    it('a new store has no tokens, and has never had one', { skip }, () =>
      withStore(ctx, async (store) => {
        assert.equal(await store.tokensExist(), false);
        assert.equal(await store.tokensEnabled(), false);
        assert.deepEqual(await store.tokensList(), []);
        assert.equal(await store.tokenGet('0123456789ab'), null);
        assert.equal(await store.tokensDelete(['0123456789ab']), 0);
        assert.equal(await store.tokensDelete([]), 0);
        await store.tokensMarkUsed([{ id: '0123456789ab', at: T }]);
        await store.tokensMarkUsed([]);
        assert.equal(await store.tokensEnabled(), false, 'recording the use of unknown tokens enables nothing');
      }));

    it('keeps what was inserted, lists oldest first and never lists the hash', { skip }, () =>
      withStore(ctx, async (store) => {
        const a = row('aaaaaaaaaaaa', 2000, ['admin']);
        const b = row('bbbbbbbbbbbb', 1000, ['publish:orders.*', 'consume:orders.eu', 'consume:*'], 1000 + 30 * 86_400_000);
        await store.tokensInsert(fresh(a));
        await store.tokensInsert(fresh(b));
        assert.equal(await store.tokensExist(), true);
        assert.deepEqual(await store.tokenGet(a.id), a);
        assert.deepEqual(await store.tokenGet(b.id), b, 'scopes keep their order; the expiry is kept');
        const listed = await store.tokensList();
        assert.deepEqual(listed, [b, a].map(({ hash: _, ...info }) => info));
        assert.ok(listed.every((t) => !('hash' in t)));
      }));

    it('a token inserted without expiresAt never expires', { skip }, () =>
      withStore(ctx, async (store) => {
        await store.tokensInsert({ id: 'aaaaaaaaaaaa', name: '', hash: 'f'.repeat(64), scopes: ['admin'], createdAt: T });
        assert.equal((await store.tokenGet('aaaaaaaaaaaa'))!.expiresAt, null);
        assert.deepEqual((await store.tokensList()).map((t) => [t.expiresAt, t.lastUsedAt]), [[null, null]]);
      }));

    it('delete revokes: the token is gone, and only existing ones are counted', { skip }, () =>
      withStore(ctx, async (store) => {
        for (const [i, id] of ['aaaaaaaaaaaa', 'bbbbbbbbbbbb', 'cccccccccccc'].entries()) await store.tokensInsert(fresh(row(id, i)));
        assert.equal(await store.tokensDelete(['aaaaaaaaaaaa', 'cccccccccccc', 'dddddddddddd']), 2);
        assert.equal(await store.tokenGet('aaaaaaaaaaaa'), null);
        assert.deepEqual((await store.tokensList()).map((t) => t.id), ['bbbbbbbbbbbb']);
        assert.equal(await store.tokensExist(), true);
        assert.equal(await store.tokensDelete(['bbbbbbbbbbbb']), 1);
        assert.equal(await store.tokensExist(), false);
      }));

    it('the first insert records that tokens are enabled; revoking every token keeps the record', { skip }, () =>
      withStore(ctx, async (store) => {
        await store.tokensInsert(fresh(row('aaaaaaaaaaaa', T)));
        assert.equal(await store.tokensEnabled(), true);
        await store.tokensInsert(fresh(row('bbbbbbbbbbbb', T + 1)));
        assert.equal(await store.tokensDelete(['aaaaaaaaaaaa', 'bbbbbbbbbbbb']), 2);
        assert.equal(await store.tokensExist(), false);
        assert.equal(await store.tokensEnabled(), true, 'no token is left, and tokens stay enabled');
        await store.tokensInsert(fresh(row('cccccccccccc', T + 2)));
        assert.equal(await store.tokensEnabled(), true, 'a later first token again is harmless');
      }));

    it('tokensMarkUsed moves lastUsedAt forward only, per token; the latest of repeated ids wins', { skip }, () =>
      withStore(ctx, async (store) => {
        await store.tokensInsert(fresh(row('aaaaaaaaaaaa', T)));
        await store.tokensInsert(fresh(row('bbbbbbbbbbbb', T)));
        await store.tokensMarkUsed([{ id: 'aaaaaaaaaaaa', at: T + 10 }]);
        assert.equal((await store.tokenGet('aaaaaaaaaaaa'))!.lastUsedAt, T + 10);
        assert.equal((await store.tokenGet('bbbbbbbbbbbb'))!.lastUsedAt, null, 'only the token used');
        await store.tokensMarkUsed([{ id: 'aaaaaaaaaaaa', at: T + 5 }]);
        assert.equal((await store.tokenGet('aaaaaaaaaaaa'))!.lastUsedAt, T + 10, 'a late write of an older use does not move it back');
        await store.tokensMarkUsed([
          { id: 'bbbbbbbbbbbb', at: T + 30 }, { id: 'aaaaaaaaaaaa', at: T + 20 }, { id: 'bbbbbbbbbbbb', at: T + 40 }, { id: 'dddddddddddd', at: T + 50 },
        ]);
        assert.deepEqual((await store.tokensList()).map((t) => [t.id, t.lastUsedAt]), [['aaaaaaaaaaaa', T + 20], ['bbbbbbbbbbbb', T + 40]]);
        assert.equal(await store.tokenGet('dddddddddddd'), null, 'an unknown id is ignored, not created');
      }));

    it('a closed store refuses the token calls with ClosedError', { skip: ctx.skip('tokens') || ctx.skip('closed-error') }, () =>
      withStore(ctx, async (store) => {
        await store.close();
        await assert.rejects(store.tokensEnabled(), ClosedError);
        await assert.rejects(store.tokensMarkUsed([{ id: 'aaaaaaaaaaaa', at: T }]), ClosedError);
      }));

    it('a second store on the same data sees the tokens the first saved, used and revoked, and that tokens were enabled', { skip: ctx.skip('tokens', 'shared') }, () =>
      withStore(ctx, async (a, d) => {
        const b = await d.open();
        assert.equal(await b.tokensEnabled(), false);
        await a.tokensInsert(fresh(row('aaaaaaaaaaaa', 1)));
        assert.deepEqual(await b.tokenGet('aaaaaaaaaaaa'), row('aaaaaaaaaaaa', 1));
        await b.tokensMarkUsed([{ id: 'aaaaaaaaaaaa', at: 7 }]);
        assert.equal((await a.tokenGet('aaaaaaaaaaaa'))!.lastUsedAt, 7);
        await a.tokensDelete(['aaaaaaaaaaaa']);
        assert.equal(await b.tokenGet('aaaaaaaaaaaa'), null, 'a revoke is seen at once by every broker');
        assert.equal(await b.tokensEnabled(), true, 'and so is the record that tokens were enabled');
      }));
  });
}
