/**
 * Python's boto3 as producer and consumer against a real `spool serve --sqs-port`
 * (test/fixtures/sqs_boto3.py). boto3 must be installed (CI installs Debian's python3-boto3): the
 * test fails, never skips, without it.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { it } from 'node:test';
import { startSqsBroker } from './support/sqs.ts';

const SCRIPT = fileURLToPath(new URL('fixtures/sqs_boto3.py', import.meta.url));
const COUNT = 200;

it('boto3: a producer thread sends batches while a consumer long-polls, checks and deletes every message', async (t) => {
  const probe = spawnSync('python3', ['-c', 'import boto3'], { encoding: 'utf8' });
  assert.equal(probe.status, 0, `this test needs Python 3 with boto3 (apt-get install python3-boto3): ${probe.error?.message ?? probe.stderr}`);
  const b = await startSqsBroker(t);
  const run = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
    const child = spawn('python3', [SCRIPT, b.url, b.admin.accessKeyId, b.admin.secretAccessKey, String(COUNT)], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
  assert.equal(run.code, 0, `the boto3 script failed: ${run.stderr}`);
  const out = JSON.parse(run.stdout.trim().split('\n').at(-1)!) as { received: number[]; ids: number; missing: string | null; left: Record<string, string> };
  assert.deepEqual(out.received, Array.from({ length: COUNT }, (_, i) => i));
  assert.equal(out.ids, COUNT);
  assert.equal(out.missing, 'AWS.SimpleQueueService.NonExistentQueue');
  assert.deepEqual(out.left, { ApproximateNumberOfMessages: '0', ApproximateNumberOfMessagesNotVisible: '0' });
});
