import { addCounts, parseObject } from '../process-snapshots.ts';
import type { CountsByQueue, ProcessSnapshot, ProcessSnapshots, Store } from '../store.ts';
import type { PgContext } from './cluster.ts';

/**
 * The `process_snapshots` table of the PostgreSQL store (schema version 7) and the retired sums
 * (`process_counts_retired`): each process's snapshot of itself for the cluster-wide model (see
 * Store.processSnapshotPut). Each process writes only its own row, so writers never contend; the
 * read is one statement (one MVCC snapshot), so it never sees a snapshot both retired and not.
 */

export async function processSnapshotPut(ctx: PgContext<Store>, p: ProcessSnapshot, mustExist: boolean): Promise<boolean> {
  const t = `${ctx.schema}.process_snapshots`;
  const text = mustExist
    ? `UPDATE ${t} SET host = $2, pid = $3, at = $4, counts = $5, live = $6 WHERE id = $1`
    : `INSERT INTO ${t} (id, host, pid, at, counts, live) VALUES ($1, $2, $3, $4, $5, $6)
       ON CONFLICT (id) DO UPDATE SET host = $2, pid = $3, at = $4, counts = $5, live = $6`;
  const rows = await ctx.run(() => ctx.db.q(text, [p.id, p.host, p.pid, p.at, JSON.stringify(p.counts), p.live]), 'publish this process\'s snapshot');
  return rows.count === 1;
}

export async function processSnapshotsRead(ctx: PgContext<Store>): Promise<ProcessSnapshots> {
  const rows = await ctx.run(
    () => ctx.db.q(
      `SELECT 'p' AS kind, id, host, pid, at, counts, live FROM ${ctx.schema}.process_snapshots
       UNION ALL SELECT 'r', queue, '', 0, 0, counts, '' FROM ${ctx.schema}.process_counts_retired`,
    ),
    'read the process snapshots',
  );
  const out: ProcessSnapshots = { processes: [], retired: {} };
  for (const r of rows as unknown as { kind: 'p' | 'r'; id: string; host: string; pid: number; at: number; counts: string; live: string }[]) {
    if (r.kind === 'r') out.retired[r.id] = parseObject(r.counts);
    else out.processes.push({ id: r.id, host: r.host, pid: r.pid, at: r.at, counts: parseObject(r.counts), live: r.live });
  }
  return out;
}

/**
 * Retires the snapshots published before `before` in one transaction: deletes them and adds
 * their counts to the retired sums, under a lock on the sums that plain reads do not wait for
 * (so two retirements never add over each other); then drops the sums of deleted queues.
 */
export async function processSnapshotsRetire(ctx: PgContext<Store>, before: number): Promise<number> {
  const s = ctx.schema;
  return ctx.run(
    () => ctx.transaction(async (tx) => {
      const stale = (await tx.q(`DELETE FROM ${s}.process_snapshots WHERE at < $1 RETURNING counts`, [before])) as unknown as { counts: string }[];
      await tx.q(`LOCK TABLE ${s}.process_counts_retired IN EXCLUSIVE MODE`);
      if (stale.length > 0) {
        const sums: CountsByQueue = {};
        for (const r of (await tx.q(`SELECT queue, counts FROM ${s}.process_counts_retired`)) as unknown as { queue: string; counts: string }[]) {
          sums[r.queue] = parseObject(r.counts);
        }
        const touched = new Set<string>();
        for (const r of stale) for (const q of addCounts(sums, parseObject(r.counts))) touched.add(q);
        await tx.q(
          `INSERT INTO ${s}.process_counts_retired (queue, counts) SELECT * FROM unnest($1::text[], $2::text[])
           ON CONFLICT (queue) DO UPDATE SET counts = excluded.counts`,
          [[...touched], [...touched].map((q) => JSON.stringify(sums[q]))],
        );
      }
      await tx.q(`DELETE FROM ${s}.process_counts_retired r WHERE NOT EXISTS (SELECT 1 FROM ${s}.queues q WHERE q.name = r.queue)`);
      return stale.length;
    }),
    'retire the snapshots of stopped processes',
  );
}
