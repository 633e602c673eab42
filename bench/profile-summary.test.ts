import assert from 'node:assert/strict';
import { test } from 'node:test';
import { partOf, summarise, type CpuProfile } from './profile-summary.ts';

test('partOf: Spool layers, dependencies, Node modules, native and V8 entries', () => {
  const f = (url: string, functionName = 'f') => ({ url, functionName, lineNumber: 0 });
  assert.equal(partOf(f('file:///work/main/src/store/sqlite/claims.ts')), 'src/store');
  assert.equal(partOf(f('file:///x/node_modules/ws/lib/sender.js')), 'ws');
  assert.equal(partOf(f('file:///x/node_modules/@fastify/ajv-compiler/index.js')), '@fastify/ajv-compiler');
  assert.equal(partOf(f('node:internal/streams/writable')), 'node:internal');
  assert.equal(partOf(f('node:net')), 'node:net');
  assert.equal(partOf(f('', '(garbage collector)')), '(garbage collector)');
  assert.equal(partOf(f('', 'all')), 'native: all');
});

test('summarise: self time per part and function, each sample timed by the delta to the next', () => {
  const profile: CpuProfile = {
    nodes: [
      { id: 1, callFrame: { functionName: '(root)', url: '', lineNumber: -1 } },
      { id: 2, callFrame: { functionName: 'claim', url: 'file:///r/src/engine/claims.ts', lineNumber: 9 } },
      { id: 3, callFrame: { functionName: 'send', url: 'file:///r/node_modules/ws/lib/sender.js', lineNumber: 0 } },
    ],
    // Samples 2, 2, 3, 2: the deltas to the next are 3 ms, 1 ms, 2 ms (the last sample is untimed).
    samples: [2, 2, 3, 2],
    timeDeltas: [0, 3000, 1000, 2000],
  };
  const s = summarise([profile, profile]);
  assert.equal(s.total, 12);
  assert.deepEqual(s.parts.map((r) => [r.name, r.ms]), [['src/engine', 8], ['ws', 4]]);
  assert.deepEqual(s.functions[0], { name: 'claim src/engine/claims.ts:10', ms: 8, share: 8 / 12 });
});
