/** `spool publish`, `bind`, `unbind` and `bindings` on a store and through a broker (`--url`): the same output both ways. */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import type { Bindings, Published } from '../src/index.ts';
import { ok, spool, tempDir, UUID_RE } from './support/cli.ts';
import { served } from './support/remote.ts';

test('spool bind, publish, bindings, unbind: fan-out, the unrouted queue and its count; on a store and through --url', async (t) => {
  const dir = tempDir(t);
  const { broker } = await served(t);
  for (const target of [['--store', join(dir, 'data')], ['--url', broker.url]]) {
    assert.equal(await ok(dir, ['bind', 'orders.*.created', 'billing', ...target]), 'bound orders.*.created -> billing\n');
    assert.equal(await ok(dir, ['bind', 'orders.#', 'audit', ...target]), 'bound orders.# -> audit\n');
    const lines = (await ok(dir, ['publish', 'orders.eu.created', '{"order":42}', '--priority', '5', ...target])).trim().split('\n');
    assert.deepEqual(lines.map((l) => l.split(' ')[0]), ['audit', 'billing']);
    for (const l of lines) assert.match(l.split(' ')[1]!, UUID_RE);
    const json = JSON.parse(await ok(dir, ['publish', 'orders.us.shipped', '{"order":43}', '--json', ...target])) as Published;
    assert.deepEqual([json.unrouted, json.jobs.map((j) => [j.queue, j.payload])], [false, [['audit', { order: 43 }]]]);
    assert.equal(await ok(dir, ['publish', 'invoices.sent', '1', ...target]), 'unrouted: no binding matches invoices.sent\n');
    await ok(dir, ['bind', '--unrouted', 'lost', ...target]);
    assert.match(await ok(dir, ['publish', 'invoices.sent', '2', ...target]), /^unrouted: no binding matches invoices\.sent; sent to the unrouted queue\nlost \S+\n$/);
    const listed = await ok(dir, ['bindings', ...target]);
    assert.match(listed, /^PATTERN +QUEUE +CREATED\norders\.# +audit +\S+ \S+\norders\.\*\.created +billing +\S+ \S+\nunrouted: 2 publishes matched no binding; they go to lost\n$/);
    assert.equal(await ok(dir, ['unbind', 'orders.#', 'audit', ...target]), 'unbound orders.# -> audit\n');
    assert.deepEqual(JSON.parse(await ok(dir, ['unbind', 'orders.#', 'audit', '--json', ...target])), { pattern: 'orders.#', queue: 'audit', removed: false });
    await ok(dir, ['unbind', '--unrouted', ...target]);
    const after = JSON.parse(await ok(dir, ['bindings', '--json', ...target])) as Bindings;
    assert.deepEqual([after.bindings.map((b) => b.pattern), after.unroutedQueue, after.unrouted], [['orders.*.created'], null, 2]);
    const bad = await spool(dir, ['bind', 'orders.#x', 'q', ...target]);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /pattern "orders\.#x" is not valid/);
    const badTopic = await spool(dir, ['publish', 'orders.*', '1', ...target]);
    assert.equal(badTopic.code, 2);
    assert.match(badTopic.stderr, /belong in a binding's pattern/);
    await ok(dir, ['unbind', 'orders.*.created', 'billing', ...target]); // the next target starts with no binding
  }
});
