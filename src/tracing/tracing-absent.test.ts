/**
 * Without @opentelemetry/api (an optional peer), Spool works as before: a process in which the
 * package cannot be resolved opens a Spool, adds and runs a job, and stores no trace context,
 * with no warning. The repository has the package installed, so the child process refuses to
 * resolve it, as Node does when it is not installed.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { it } from 'node:test';

const ROOT = join(import.meta.dirname, '..', '..');
const NODE = existsSync(join(ROOT, 'node_modules', '.bin', 'node')) ? join(ROOT, 'node_modules', '.bin', 'node') : process.execPath;

const CHILD = `
import { registerHooks } from 'node:module';
const asked = [];
registerHooks({
  resolve(specifier, context, next) {
    if (specifier.startsWith('@opentelemetry/')) {
      asked.push(specifier);
      throw Object.assign(new Error("Cannot find package '" + specifier + "'"), { code: 'ERR_MODULE_NOT_FOUND' });
    }
    return next(specifier, context);
  },
});
const { Spool } = await import(${JSON.stringify(pathToFileURL(join(ROOT, 'src', 'index.ts')).href)});
const spool = await Spool.open({ store: 'memory' });
const worker = spool.work('q', () => 'ran');
const completed = new Promise((resolve) => worker.on('completed', resolve));
const job = await spool.queue('q').add(1);
await completed;
const stored = await spool.get(job.id);
await spool.close();
console.log(JSON.stringify({ asked, added: job.trace, stored: stored.trace, state: stored.state, result: stored.result }));
`;

it('without @opentelemetry/api, a Spool opens, adds and works, storing no trace context and warning about nothing', () => {
  const child = spawnSync(NODE, ['--input-type=module', '--eval', CHILD], { encoding: 'utf8', timeout: 60_000 });
  assert.equal(child.status, 0, child.stderr);
  assert.equal(child.stderr, '', 'no warning: an absent optional peer is not a problem');
  assert.deepEqual(JSON.parse(child.stdout), {
    asked: ['@opentelemetry/api'], // looked for once, at open; never again
    added: null, stored: null, state: 'completed', result: 'ran',
  });
});
