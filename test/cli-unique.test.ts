/**
 * Deduplication by `uniqueKey` at the edges: `spool add --unique-key` on a store and through a
 * broker (`--url`), and the HTTP add route.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import type { Job } from '../src/index.ts';
import { ok, spool, tempDir, UUID_RE } from './support/cli.ts';
import { served } from './support/remote.ts';

test('spool add --unique-key: a second add prints the first job\'s id, says it is a duplicate, and exits 0; on a store and through --url', async (t) => {
  const dir = tempDir(t);
  const { broker } = await served(t);
  for (const target of [['--store', join(dir, 'data')], ['--url', broker.url]]) {
    const first = await spool(dir, ['add', 'reports', '{"month":11}', '--unique-key', 'report:11', ...target]);
    assert.equal(first.code, 0, first.stderr);
    assert.match(first.stdout.trim(), UUID_RE);
    assert.equal(first.stderr, '');
    const again = await spool(dir, ['add', 'reports', '{"month":12}', '--unique-key', 'report:11', ...target]);
    assert.equal(again.code, 0, again.stderr);
    assert.equal(again.stdout, first.stdout, 'the id of the job holding the key');
    assert.match(again.stderr, /^duplicate: job \S+ \(ready\) holds unique key "report:11"; nothing was added\n$/);
    const json = JSON.parse(await ok(dir, ['add', 'reports', '{"month":13}', '--unique-key', 'report:11', '--json', ...target])) as Job;
    assert.equal(json.id, first.stdout.trim());
    assert.equal(json.duplicate, true);
    assert.deepEqual(json.payload, { month: 11 });
    const other = JSON.parse(await ok(dir, ['add', 'reports', '{"month":12}', '--unique-key', 'report:12', '--json', ...target])) as Job;
    assert.equal(other.duplicate, undefined);
    // One key for every line of a file would make all but the first duplicates: refused.
    const file = await spool(dir, ['add', 'reports', '--file', '-', '--unique-key', 'k', ...target], { input: '1\n2\n' });
    assert.equal(file.code, 2);
    assert.match(file.stderr, /--unique-key is for one job/);
    const windowed = JSON.parse(await ok(dir, ['add', 'reports', '1', '--unique-key', 'w', '--unique-window', '15m', '--json', ...target])) as Job;
    assert.equal(windowed.duplicate, undefined);
    const lone = await spool(dir, ['add', 'reports', '1', '--unique-window', '15m', ...target]);
    assert.equal(lone.code, 2);
    assert.match(lone.stderr, /uniqueWindowMs goes with a uniqueKey/);
    const bad = await spool(dir, ['add', 'reports', '1', '--unique-key', '', ...target]);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /uniqueKey must be a string of 1–128 characters/);
  }
});

test('HTTP: an add whose uniqueKey a live job holds answers 201 with that job, "duplicate": true; batches per job', async (t) => {
  const { broker } = await served(t);
  const post = async (body: unknown) => {
    const res = await fetch(`${broker.url}/v1/queues/q/jobs`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };
  const first = await post({ payload: { n: 1 }, uniqueKey: 'k' });
  assert.equal(first.status, 201);
  assert.equal(first.body.duplicate, undefined);
  const again = await post({ payload: { n: 2 }, uniqueKey: 'k' });
  assert.equal(again.status, 201);
  assert.equal(again.body.id, first.body.id);
  assert.equal(again.body.duplicate, true);
  assert.deepEqual(again.body.payload, { n: 1 });
  const batch = await post({ jobs: [{ payload: 3, uniqueKey: 'k' }, { payload: 4, uniqueKey: 'j' }, { payload: 5, uniqueKey: 'j' }] });
  assert.equal(batch.status, 201);
  const jobs = batch.body.jobs as Job[];
  assert.deepEqual(jobs.map((j) => [j.id === first.body.id, j.duplicate ?? false]), [[true, true], [false, false], [false, true]]);
  assert.equal(jobs[2]!.id, jobs[1]!.id);
  const bad = await post({ payload: 1, uniqueKey: 'x'.repeat(129) });
  assert.equal(bad.status, 400);
  assert.match(JSON.stringify(bad.body), /uniqueKey/);
});
