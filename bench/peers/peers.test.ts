import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { isTargetImplemented, skipReason, targetNeedsPostgres } from '../targets/index.ts';
import { PEER_IDS, PEERS, PEERS_ENV, peerSkipReason } from '../targets/peers.ts';
import { DEFAULT_PEER_WORKLOADS, givenServerProblem, planPeers, runArgs } from './main.ts';
import { selectWorkloads } from '../workloads/catalog.ts';
import { freePort } from '../../test/support/ports.ts';

// None of these start a peer's server or need bench/peers installed.

test('bench:peers: every target and the default workloads unless told, other flags passed on untouched', () => {
  const plan = planPeers(['--json', '--runs', '1']);
  assert.deepEqual(plan.targets, ['spool-embedded', 'spool-server', 'spool-postgres', 'bullmq', 'pg-boss', 'rabbitmq', 'nats']);
  assert.equal(plan.workload, DEFAULT_PEER_WORKLOADS);
  assert.deepEqual(plan.passThrough, ['--json', '--runs', '1']);
  assert.equal(plan.help, false);
  assert.deepEqual(runArgs(plan, ['bullmq', 'nats']), ['--json', '--runs', '1', '--target', 'bullmq,nats', '--workload', DEFAULT_PEER_WORKLOADS]);
});

test('bench:peers: --target and --workload in both spellings', () => {
  const plan = planPeers(['--target=bullmq, nats,bullmq', '--workload', 'W5,W6', '--quick']);
  assert.deepEqual(plan.targets, ['bullmq', 'nats']);
  assert.equal(plan.workload, 'W5,W6');
  assert.deepEqual(plan.passThrough, ['--quick']);
  assert.equal(planPeers(['-h']).help, true);
  assert.throws(() => planPeers(['--workload']), /--workload needs a value/);
});

/** A bench/peers directory in miniature: the packages given are "installed". */
function fakePeersDir(packages: string[]): string {
  const dir = mkdtempSync(join(tmpdir(), 'spool-peers-test-'));
  for (const name of packages) {
    mkdirSync(join(dir, 'node_modules', name), { recursive: true });
    writeFileSync(join(dir, 'node_modules', name, 'package.json'), '{}');
  }
  return dir;
}

test('a peer is skipped, with the reason, until its library is installed and its server given', () => {
  const empty = fakePeersDir([]);
  const all = fakePeersDir(PEER_IDS.flatMap((id) => [...PEERS[id].packages]));
  try {
    assert.match(peerSkipReason('bullmq', {}, empty)!, /client library \(bullmq, ioredis\) is not installed in bench\/peers: `npm run bench:peers` installs it/);
    assert.match(peerSkipReason('nats', {}, empty)!, /@nats-io\/transport-node/);
    assert.match(peerSkipReason('bullmq', {}, all)!, /no Redis server: set SPOOL_BENCH_REDIS_URL, or run `npm run bench:peers`/);
    assert.match(peerSkipReason('rabbitmq', {}, all)!, /no RabbitMQ server: set SPOOL_BENCH_AMQP_URL/);
    assert.equal(peerSkipReason('bullmq', { SPOOL_BENCH_REDIS_URL: 'redis://127.0.0.1:6379' }, all), null);
    // pg-boss uses the runner's PostgreSQL: it runs when bench:peers asked for the peers.
    assert.match(peerSkipReason('pg-boss', {}, all)!, /npm run bench:peers/);
    assert.equal(peerSkipReason('pg-boss', { [PEERS_ENV]: '1' }, all), null);
  } finally {
    rmSync(empty, { recursive: true, force: true });
    rmSync(all, { recursive: true, force: true });
  }
});

test('the runner lists the peers, skips what they cannot run, and starts PostgreSQL only for a pg-boss that runs', () => {
  for (const id of PEER_IDS) {
    assert.equal(isTargetImplemented(id), true);
    assert.match(skipReason(id, 'C1000')!, /C1000|not installed|server|bench:peers/);
  }
  // Without the environment bench:peers sets, no peer runs here (and pg-boss needs no PostgreSQL).
  if (!process.env[PEERS_ENV] && !process.env.SPOOL_BENCH_REDIS_URL) {
    assert.notEqual(skipReason('bullmq', 'W3'), null);
    assert.notEqual(skipReason('pg-boss', 'W3'), null);
    assert.equal(targetNeedsPostgres('pg-boss'), false);
  }
  assert.equal(targetNeedsPostgres('spool-postgres'), true);
  assert.equal(skipReason('spool-server', 'C1000'), null);
});

test('a server named in the environment that does not answer is reported as unreachable', async () => {
  const closed = await freePort();
  assert.match((await givenServerProblem(`redis://127.0.0.1:${closed}`))!, new RegExp(`redis://127\\.0\\.0\\.1:${closed} is unreachable \\(.*ECONNREFUSED`));
  assert.match((await givenServerProblem('amqp://guest:secret@127.0.0.1:1'))!, /amqp:\/\/guest:\*\*\*@127\.0\.0\.1:1 is unreachable/);
  assert.match((await givenServerProblem('not a url'))!, /not a URL/);
  const server = createServer((socket) => socket.end());
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    const { port } = server.address() as { port: number };
    assert.equal(await givenServerProblem(`nats://127.0.0.1:${port}`), null);
  } finally {
    await new Promise((resolve) => server.close(resolve));
  }
});

test('W4-noisy is in the default peer set and runs wherever W4 runs: every peer, every Spool target', () => {
  assert.deepEqual(selectWorkloads(DEFAULT_PEER_WORKLOADS).runs, ['W1', 'W2', 'W3', 'W4', 'W4-noisy']);
  for (const id of PEER_IDS) assert.equal(skipReason(id, 'W4-noisy'), skipReason(id, 'W4'), id);
  for (const id of ['spool-embedded', 'spool-server', 'spool-postgres'] as const) assert.equal(skipReason(id, 'W4-noisy'), null, id);
});
