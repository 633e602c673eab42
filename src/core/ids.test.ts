import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isJobId, jobIdTime, newJobId } from './ids.ts';

test('ids are UUIDv7, unique, and sort in creation order even within one millisecond', () => {
  const ids = Array.from({ length: 20_000 }, () => newJobId(1_800_000_000_000));
  assert.equal(new Set(ids).size, ids.length);
  assert.deepEqual([...ids].sort(), ids);
  for (const id of ids.slice(0, 100)) {
    assert.ok(isJobId(id), id);
    assert.equal(id[14], '7', 'version 7');
    assert.match(id[19]!, /[89ab]/, 'RFC 9562 variant');
  }
  assert.ok(jobIdTime(ids[0]!) >= 1_800_000_000_000);
});

test('ids keep sorting when the clock steps back', () => {
  const a = newJobId(1_900_000_000_000);
  const b = newJobId(1_899_999_999_000);
  assert.ok(b > a);
});

test('isJobId rejects what is not an id', () => {
  for (const bad of ['', 'abc', 42, null, '01900000-0000-7000-8000-00000000000Z']) assert.equal(isJobId(bad), false);
});
