import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runOrder } from './run-order.ts';

test('runs of a target: all of one workload in a row, or in turns with --interleave', () => {
  const label = (o: { kind: string; run: number }[]): string[] => o.map((x) => `${x.kind}#${x.run}`);
  assert.deepEqual(label(runOrder(['W3', 'W3-sjf'], 2, false)), ['W3#1', 'W3#2', 'W3-sjf#1', 'W3-sjf#2']);
  assert.deepEqual(label(runOrder(['W3', 'W3-sjf'], 2, true)), ['W3#1', 'W3-sjf#1', 'W3#2', 'W3-sjf#2']);
  assert.deepEqual(runOrder([], 3, true), []);
});
