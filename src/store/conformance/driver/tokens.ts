import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { TokenRow } from '../../store.ts';
import { withStore, type DriverContext } from './harness.ts';

const row = (id: string, createdAt: number, scopes: string[] = ['publish:orders.*']): TokenRow => ({
  id, name: `token ${id}`, hash: `${id}`.padEnd(64, 'f'), scopes, createdAt,
});

/** API tokens: insert, get, list (never the hash), delete (revoke), exist. */
export function tokensArea(ctx: DriverContext): void {
  const skip = ctx.skip('tokens');
  describe('API tokens', () => {
    it('a new store has no tokens', { skip }, () =>
      withStore(ctx, async (store) => {
        assert.equal(await store.tokensExist(), false);
        assert.deepEqual(await store.tokensList(), []);
        assert.equal(await store.tokenGet('0123456789ab'), null);
        assert.equal(await store.tokensDelete(['0123456789ab']), 0);
        assert.equal(await store.tokensDelete([]), 0);
      }));

    it('keeps what was inserted, lists oldest first and never lists the hash', { skip }, () =>
      withStore(ctx, async (store) => {
        const a = row('aaaaaaaaaaaa', 2000, ['admin']);
        const b = row('bbbbbbbbbbbb', 1000, ['publish:orders.*', 'consume:orders.eu', 'consume:*']);
        await store.tokensInsert(a);
        await store.tokensInsert(b);
        assert.equal(await store.tokensExist(), true);
        assert.deepEqual(await store.tokenGet(a.id), a);
        assert.deepEqual(await store.tokenGet(b.id), b, 'scopes keep their order');
        const listed = await store.tokensList();
        assert.deepEqual(listed, [b, a].map(({ hash: _, ...info }) => info));
        assert.ok(listed.every((t) => !('hash' in t)));
      }));

    it('delete revokes: the token is gone, and only existing ones are counted', { skip }, () =>
      withStore(ctx, async (store) => {
        for (const [i, id] of ['aaaaaaaaaaaa', 'bbbbbbbbbbbb', 'cccccccccccc'].entries()) await store.tokensInsert(row(id, i));
        assert.equal(await store.tokensDelete(['aaaaaaaaaaaa', 'cccccccccccc', 'dddddddddddd']), 2);
        assert.equal(await store.tokenGet('aaaaaaaaaaaa'), null);
        assert.deepEqual((await store.tokensList()).map((t) => t.id), ['bbbbbbbbbbbb']);
        assert.equal(await store.tokensExist(), true);
        assert.equal(await store.tokensDelete(['bbbbbbbbbbbb']), 1);
        assert.equal(await store.tokensExist(), false);
      }));

    it('a second store on the same data sees the tokens the first saved and revoked', { skip: ctx.skip('tokens', 'shared') }, () =>
      withStore(ctx, async (a, d) => {
        const b = await d.open();
        await a.tokensInsert(row('aaaaaaaaaaaa', 1));
        assert.deepEqual(await b.tokenGet('aaaaaaaaaaaa'), row('aaaaaaaaaaaa', 1));
        await a.tokensDelete(['aaaaaaaaaaaa']);
        assert.equal(await b.tokenGet('aaaaaaaaaaaa'), null, 'a revoke is seen at once by every broker');
      }));
  });
}
