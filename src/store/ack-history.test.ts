/**
 * An ack leaves the row's attempt history alone (no JSON read or rewritten on the hot path): the
 * stored history of a job completed on its first attempt is still the empty array, and the record
 * a Job shows for that attempt is derived from the row's columns. A row that already stores the
 * record (written before acks stopped doing so) shows it once. Both stores, raw rows read beside
 * the engine.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { after, describe, it } from 'node:test';
import postgres from 'postgres';
import { testPgUrl, uniqueSchema } from '../../test/support/pg-url.ts';
import { quiet } from '../../test/support/remote.ts';
import { scratchDir } from '../../test/support/scratch.ts';
import type { AttemptRecord } from '../core/job.ts';
import { Spool } from '../engine/spool.ts';

const sql = postgres(testPgUrl(), { max: 2, onnotice: () => {} });
after(() => sql.end());

interface RawRows {
  history(id: string): Promise<AttemptRecord[]>;
  setHistory(id: string, history: AttemptRecord[]): Promise<void>;
}

async function ackLeavesHistory(spool: Spool, raw: RawRows): Promise<void> {
  const { id } = await spool.queue('q').add({ n: 1 });
  const [job] = await spool.claim('q');
  await spool.ack({ jobId: id, token: job!.leaseToken }, 'done');
  assert.deepEqual(await raw.history(id), [], 'the ack wrote no record into the row');
  const done = await spool.get(id);
  assert.deepEqual(done.history.map((h) => [h.attempt, h.token, h.outcome]), [[1, job!.leaseToken, 'completed']]);
  assert.ok(done.history[0]!.startedAt <= done.history[0]!.endedAt && done.history[0]!.endedAt === done.finishedAt);

  // A row that stores its completing record already is shown as stored, not with a second one.
  await raw.setHistory(id, done.history);
  assert.deepEqual((await spool.get(id)).history, done.history);
}

describe('an ack leaves the attempt history in the row alone', () => {
  it('SQLite file', async (t) => {
    const dir = scratchDir('ack-history');
    const spool = await Spool.open({ store: dir, maintenance: false, ...quiet });
    const db = new DatabaseSync(join(dir, 'spool.db'));
    t.after(async () => {
      db.close();
      await spool.close();
    });
    await ackLeavesHistory(spool, {
      history: async (id) => JSON.parse((db.prepare('SELECT history FROM jobs WHERE id = ?').get(id) as { history: string }).history),
      setHistory: async (id, history) => void db.prepare('UPDATE jobs SET history = ? WHERE id = ?').run(JSON.stringify(history), id),
    });
  });

  it('PostgreSQL', async (t) => {
    const schema = uniqueSchema('ack_history');
    const spool = await Spool.open({ store: testPgUrl(), schema, maintenance: false, ...quiet });
    t.after(() => spool.close());
    await ackLeavesHistory(spool, {
      history: async (id) => (await sql.unsafe(`SELECT history FROM ${schema}.jobs_finished WHERE id = $1`, [id]))[0]!.history as AttemptRecord[],
      setHistory: async (id, history) => void (await sql.unsafe(`UPDATE ${schema}.jobs_finished SET history = $1::text::jsonb WHERE id = $2`, [JSON.stringify(history), id])),
    });
  });
});
