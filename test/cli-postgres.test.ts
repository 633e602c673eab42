import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { promisify } from 'node:util';
import { openPostgresStore } from '../src/store/postgres/postgres-store.ts';
import { PG_LATEST_SCHEMA_VERSION } from '../src/store/postgres/migrations.ts';
import { testPgUrl, uniqueSchema } from './support/pg-url.ts';

const main = join(import.meta.dirname, '..', 'src', 'cli', 'main.ts');
const exec = promisify(execFile);
async function spool(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await exec(process.execPath, [main, ...args]);
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

describe('spool CLI on PostgreSQL', () => {
  it('migrate brings a new schema up to date, then add and stats use it', async () => {
    const schema = uniqueSchema('cli');
    const first = await spool(['migrate', '--store', testPgUrl(), '--schema', schema, '--json']);
    assert.equal(first.code, 0, first.stderr);
    assert.deepEqual({ ...JSON.parse(first.stdout), store: undefined }, { store: undefined, schema, from: 0, to: PG_LATEST_SCHEMA_VERSION });
    const again = await spool(['migrate', '--store', testPgUrl(), '--schema', schema]);
    assert.match(again.stdout, new RegExp(`schema ${schema} at version ${PG_LATEST_SCHEMA_VERSION} \\(was ${PG_LATEST_SCHEMA_VERSION}`));
    assert.equal((await spool(['add', 'emails', '{"to":"a@example.com"}', '--store', testPgUrl(), '--schema', schema])).code, 0);
    const stats = await spool(['stats', 'emails', '--store', testPgUrl(), '--json', '--schema', schema]);
    assert.equal(JSON.parse(stats.stdout)[0].counts.ready, 1);
  });

  it('migrate refuses a schema written by a newer Spool with exit code 5', async () => {
    const schema = uniqueSchema('cli');
    const store = await openPostgresStore({ url: testPgUrl(), schema });
    await store.query(`INSERT INTO ${schema}.schema_version (version) VALUES (${PG_LATEST_SCHEMA_VERSION + 1})`);
    await store.close();
    const r = await spool(['migrate', '--store', testPgUrl(), '--schema', schema]);
    assert.equal(r.code, 5);
    assert.match(r.stderr, /newer Spool/);
  });
});
