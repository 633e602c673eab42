import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { test } from 'node:test';
import { withNoisyNeighbour, type NoisyNeighbour } from './noisy.ts';

/** True while a process of this id exists (signal 0 only checks). */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

test('the noisy neighbour runs during the run and is gone after it', async () => {
  let seen: NoisyNeighbour | null = null;
  const result = await withNoisyNeighbour(() => {}, async (neighbour) => {
    seen = neighbour;
    assert.ok(neighbour.running() && alive(neighbour.pid), 'running while the run runs');
    return 42;
  });
  assert.equal(result, 42);
  assert.ok(seen !== null);
  const { pid, running } = seen as NoisyNeighbour;
  assert.equal(running(), false);
  assert.equal(alive(pid), false);
});

test('a run that throws still ends the noisy neighbour, and its error is the one rethrown', async () => {
  let pid = 0;
  await assert.rejects(
    withNoisyNeighbour(() => {}, async (neighbour) => {
      pid = neighbour.pid;
      throw new Error('the run failed');
    }),
    /the run failed/,
  );
  assert.ok(pid > 0);
  assert.equal(alive(pid), false);
});

test('a neighbour that exited before the run was done fails the run', async () => {
  await assert.rejects(
    withNoisyNeighbour(() => {}, async (neighbour) => {
      await neighbour.stop();
      return 1;
    }),
    /the noisy neighbour exited before the run was done/,
  );
});

test('a neighbour whose run process dies without ending it exits by itself', async () => {
  // A run process that starts the neighbour, prints its pid and then waits to be killed.
  const script = `
    const { startNoisyNeighbour } = await import(${JSON.stringify(new URL('./noisy.ts', import.meta.url).href)});
    const n = await startNoisyNeighbour();
    process.stdout.write(n.pid + '\\n');
    setInterval(() => {}, 1000);
  `;
  const runProcess = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  const [line] = (await once(createInterface({ input: runProcess.stdout! }), 'line')) as [string];
  const pid = Number(line);
  assert.ok(alive(pid), 'the neighbour runs');
  runProcess.kill('SIGKILL');
  await once(runProcess, 'exit');
  // No timing: wait for the state (the test's own timeout fails it if it never comes).
  while (alive(pid)) await new Promise((resolve) => setTimeout(resolve, 20));
});

test('waiting for the neighbour to end holds the run process open until the run has returned', async () => {
  // In a process of its own: the test runner's handles would keep the event loop alive here.
  const script = `
    const { withNoisyNeighbour } = await import(${JSON.stringify(new URL('./noisy.ts', import.meta.url).href)});
    const result = await withNoisyNeighbour(() => {}, async () => 'returned');
    process.stdout.write(result + '\\n');
  `;
  const runProcess = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  runProcess.stdout!.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
  const [code] = (await once(runProcess, 'close')) as [number];
  assert.equal(code, 0);
  assert.equal(out, 'returned\n');
});
