import { scratchDir } from '../../../test/support/scratch.ts';
import { join } from 'node:path';
import { runStoreConformance } from '../conformance/conformance.ts';
import { SqliteStore } from './sqlite-store.ts';

const dir = scratchDir('spool-conformance-');
let n = 0;

runStoreConformance('sqlite file', (options) => new SqliteStore({ ...options, path: join(dir, `t${n++}.db`) }));
// In memory, in-process only: the remote mode runs on the file (and on PostgreSQL), which is enough to prove the wire.
runStoreConformance('memory', (options) => new SqliteStore({ ...options, path: ':memory:' }), { remote: false });
