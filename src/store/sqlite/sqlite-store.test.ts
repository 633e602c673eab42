import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runStoreConformance } from '../conformance/conformance.ts';
import { SqliteStore } from './sqlite-store.ts';

const dir = mkdtempSync(join(tmpdir(), 'spool-conformance-'));
let n = 0;

runStoreConformance('sqlite file', (options) => new SqliteStore({ ...options, path: join(dir, `t${n++}.db`) }));
runStoreConformance('memory', (options) => new SqliteStore({ ...options, path: ':memory:' }));
