import { testPgUrl, uniqueSchema } from '../../../test/support/pg-url.ts';
import { runStoreConformance } from '../conformance/conformance.ts';
import { openPostgresStore } from './postgres-store.ts';

// Each test gets a schema of its own on the shared test server.
runStoreConformance('postgres', (options) => openPostgresStore({ ...options, url: testPgUrl(), schema: uniqueSchema(), poolSize: 4 }));
