import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { buildOpenApi } from './openapi.ts';
import { OPERATIONS } from './operations.ts';

const doc = buildOpenApi() as { paths: Record<string, Record<string, any>>; components: { schemas: Record<string, unknown> } };

test('docs/openapi.json is the document the operations table makes (run `npm run openapi` after changing an operation)', () => {
  const committed = JSON.parse(readFileSync(new URL('../../docs/openapi.json', import.meta.url), 'utf8'));
  assert.deepEqual(committed, JSON.parse(JSON.stringify(doc)));
});

test('every operation is in the document once, with its operationId, and every link names an operation', () => {
  const ids = Object.values(doc.paths).flatMap((methods) => Object.values(methods).map((o) => o.operationId as string));
  assert.deepEqual(new Set(ids).size, ids.length, 'operationIds are unique');
  for (const op of OPERATIONS) assert.ok(ids.includes(op.name), `${op.name} is documented`);
  for (const methods of Object.values(doc.paths)) {
    for (const o of Object.values(methods)) {
      for (const response of Object.values(o.responses as Record<string, any>)) {
        for (const link of Object.values((response.links ?? {}) as Record<string, { operationId: string }>)) assert.ok(ids.includes(link.operationId), link.operationId);
      }
    }
  }
  const receive = doc.paths['/v1/queues/{queue}/receive']!.post;
  assert.deepEqual(Object.keys(receive.responses['200'].links).sort(), ['ack', 'extend', 'nack'], 'a client can discover the lease flow from receive');
});

test('every schema in the document compiles, and the constraints the engine enforces are stated', () => {
  const ajv = new Ajv2020({ strict: false });
  ajv.addSchema({ ...doc, $id: 'doc' });
  for (const name of Object.keys(doc.components.schemas)) ajv.getSchema(`doc#/components/schemas/${name}`);
  const add = doc.paths['/v1/queues/{queue}/jobs']!.post;
  const queueParam = add.parameters.find((p: { name: string }) => p.name === 'queue');
  assert.ok(queueParam.schema.pattern, 'the queue name pattern');
  for (const path of Object.keys(doc.paths).filter((p) => p.includes('{queue}'))) {
    for (const o of Object.values(doc.paths[path]!)) assert.ok(o.parameters.find((p: { name: string }) => p.name === 'queue').schema.pattern, `${path}: queue pattern`);
  }
  const body = add.requestBody.content['application/json'].schema;
  assert.equal(body.additionalProperties, false, 'unknown fields are refused');
  assert.ok(body.oneOf, 'payload or jobs, not both');
  const item = doc.components.schemas.AddItem as { properties: Record<string, { maxLength?: number; maximum?: number }>; not: unknown };
  assert.equal(item.properties.name!.maxLength, 128, 'job names are at most 128 characters');
  assert.ok(item.properties.delayMs!.maximum, 'delayMs is bounded');
  assert.ok(item.not, 'delayMs and runAt exclude each other');
  const settings = doc.components.schemas.QueueConfigInput as { additionalProperties: boolean; properties: Record<string, { minimum: number }> };
  assert.equal(settings.additionalProperties, false);
  assert.equal(settings.properties.visibilityTimeoutMs!.minimum, 100);
  assert.ok(doc.paths['/v1/queues/{queue}/jobs']!.post.responses['415'], '415 is documented');
});
