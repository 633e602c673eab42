/**
 * The fault schedules in CI: `npm run faults -- --quick --cycles 2`: two cycles per deployment
 * and fault kind (SIGKILL of a producer, a worker and a broker, SIGSTOP of a worker past its
 * lease, a worker and a producer partitioned from the brokers, PostgreSQL stopped and restarted,
 * its primary failed over to the standby, the store's disk filled then freed, a clock stepped),
 * on the embedded deployment, a broker on SQLite and two brokers on PostgreSQL: 23 sessions,
 * about 3 minutes. The disk-full fault mounts a small tmpfs (root); clock-step needs libfaketime
 * (.ci/run installs it). The sessions on a PostgreSQL they stop or fill run their own, never the
 * shared one. Fails when the history checker fails; the seed is random and in the message, to replay it.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { it } from 'node:test';
import { testPgUrl } from './support/pg-url.ts';

const RUN = join(import.meta.dirname, '..', 'faults', 'run.ts');

// The timeout guards against a hang only: about 3 minutes on an idle machine, several times that on a loaded one.
it('the quick fault schedule passes the history checker on every deployment', { timeout: 900_000 }, async (t) => {
  const seed = Math.floor(Math.random() * 2 ** 31);
  const child = spawn(process.execPath, [RUN, '--quick', '--cycles', '2', '--seed', String(seed)], {
    env: { ...process.env, SPOOL_TEST_PG_URL: testPgUrl() },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  // On a timeout too: the runner kills the processes it started when it gets SIGTERM.
  t.after(() => void (child.exitCode === null && child.signalCode === null && child.kill('SIGTERM')));
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  const replay = `replay: npm run faults -- --quick --cycles 2 --seed ${seed}`;
  assert.equal(code, 0, `the fault run failed (${replay})\n${stdout}\n${stderr.slice(-8000)}`);
  const rows = stdout.split('\n').filter((l) => /^\| (embedded|broker-sqlite|brokers-postgres) \|/.test(l));
  assert.equal(rows.length, 23, `a row per deployment and fault kind:\n${stdout}`);
  assert.ok(rows.every((r) => r.endsWith('| ok |')), `every row ok (${replay}):\n${stdout}`);
});
