/**
 * What the README promises a newcomer: `npm start` runs a broker on 127.0.0.1:7600, and
 * `spool --url http://127.0.0.1:7600 …` works against it. Real npm, the real default port.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { test } from 'node:test';
import { ok, okJson, tempDir } from './support/cli.ts';
import type { QueueStats } from '../src/index.ts';

const ROOT = join(import.meta.dirname, '..');
const DEFAULT_URL = 'http://127.0.0.1:7600';

test('npm start serves on 127.0.0.1:7600, and spool --url http://127.0.0.1:7600 talks to it', { timeout: 90_000 }, async (t) => {
  const dir = tempDir(t);
  // The store goes to a temporary directory rather than the repository's ./spool-data.
  const env: NodeJS.ProcessEnv = { ...process.env, SPOOL_STORE: join(dir, 'data') };
  delete env.SPOOL_URL;
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
  // Its own process group: npm runs node through a shell, and the whole group is stopped at the end.
  const child = spawn(npm, ['start', '--silent', '--', '--json'], { cwd: ROOT, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  t.after(() => {
    if (child.exitCode === null) process.kill(-child.pid!, 'SIGKILL');
  });
  let out = '';
  let err = '';
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (err += chunk));
  const serving = await new Promise<{ url: string }>((resolve, reject) => {
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      out += chunk;
      const line = out.split('\n').find((l) => l.includes('"serving"'));
      if (line) resolve(JSON.parse(line) as { url: string });
    });
    void exited.then((code) => reject(new Error(`npm start exited (${code}) before serving (is port 7600 taken?): ${err}`)));
  });
  assert.equal(serving.url, DEFAULT_URL);

  const added = (await ok(dir, ['--url', DEFAULT_URL, 'add', 'emails', '{"to":"a@example.com"}'])).trim();
  assert.match(added, /^[0-9a-f-]{36}$/);
  const queues = await okJson<QueueStats[]>(dir, ['--url', DEFAULT_URL, 'stats']);
  assert.deepEqual(queues.map((q) => [q.queue, q.counts.ready]), [['emails', 1]]);
  assert.match(await ok(dir, ['--url', DEFAULT_URL, 'stats']), /emails/);

  process.kill(-child.pid!, 'SIGTERM');
  await exited;
  assert.match(out, /"stopped"/, `the broker stopped gracefully: ${out}`);
});
