import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';

const run = promisify(execFile);
const dir = join(import.meta.dirname, '..', 'examples');

// The examples are type-checked by `tsc` (tsconfig includes them) and must also run.
for (const file of readdirSync(dir).filter((f) => f.endsWith('.ts'))) {
  test(`examples/${file} runs`, { timeout: 30_000 }, async () => {
    // The PostgreSQL examples use the test server (see test/global-setup.ts).
    const env = { ...process.env, DATABASE_URL: process.env.SPOOL_TEST_PG_URL };
    const { stdout } = await run(process.execPath, [join(dir, file)], { cwd: dir, env });
    assert.ok(stdout.length > 0, 'it printed what it did');
  });
}
