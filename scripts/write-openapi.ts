// Writes docs/openapi.json from the operations table (src/api/operations.ts). Run it after
// changing an operation: `npm run openapi`. src/api/openapi.test.ts fails while the
// committed file differs from what this writes.
import { writeFileSync } from 'node:fs';
import { buildOpenApi } from '../src/api/openapi.ts';

const target = new URL('../docs/openapi.json', import.meta.url);
writeFileSync(target, JSON.stringify(buildOpenApi(), null, 2) + '\n');
console.log(`wrote ${target.pathname}`);
