import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SchemaTooNewError } from '../../../core/errors.ts';
import { getJob, jobId, newRow, withData, type DriverContext } from './harness.ts';

/** Opening data: the schema version recorded, opening it again (even at once), refusing a newer schema. */
export function migrationsArea(ctx: DriverContext): void {
  describe('migrations', () => {
    it('a store opened on fresh data brings it to the latest schema version', { skip: ctx.skip('migrations', 'schema') }, () =>
      withData(ctx, async (d) => {
        await d.open();
        assert.equal(await d.data.schema!.read(), d.data.schema!.latest);
      }));

    it('stores opened on the same data, even at once, migrate it once: each opens and sees what the others wrote', { skip: ctx.skip('migrations', 'shared') }, () =>
      withData(ctx, async (d) => {
        const [a, b] = await Promise.all([d.open(), d.open()]);
        await a!.jobsInsertMany([newRow(1)]);
        assert.equal((await getJob(b!, jobId(1))).state, 'ready');
        await a!.close();
        await b!.close();
        const c = await d.open();
        assert.equal((await getJob(c, jobId(1))).state, 'ready', 'opening again keeps the data');
        if (d.data.schema) assert.equal(await d.data.schema.read(), d.data.schema.latest);
      }));

    it('data written by a newer version is refused with SchemaTooNewError, and left as it was', { skip: ctx.skip('migrations', 'schema') }, () =>
      withData(ctx, async (d) => {
        const schema = d.data.schema!;
        const store = await d.open();
        await store.jobsInsertMany([newRow(1)]);
        await store.close();
        await schema.write(schema.latest + 1);
        await assert.rejects(
          d.open(),
          (err: Error) => err instanceof SchemaTooNewError && err.code === 'SCHEMA_TOO_NEW' && err.message.includes(String(schema.latest + 1)),
        );
        assert.equal(await schema.read(), schema.latest + 1);
      }));
  });
}
