import assert from 'node:assert/strict';
import { test } from 'node:test';
import { InvalidArgumentError } from './errors.ts';
import { checkOptionKeys, checkOptionType, editDistance, nearest } from './options.ts';

const KNOWN = ['pollIntervalMs', 'payloadMaxBytes', 'maintenance', 'store'] as const;

test('editDistance counts insertions, deletions, substitutions and adjacent swaps', () => {
  assert.equal(editDistance('', ''), 0);
  assert.equal(editDistance('abc', ''), 3);
  assert.equal(editDistance('', 'abc'), 3);
  assert.equal(editDistance('kitten', 'sitting'), 3);
  assert.equal(editDistance('pollintervallms', 'pollintervalms'), 1);
  assert.equal(editDistance('stroe', 'store'), 1, 'a swap is one edit');
  assert.equal(editDistance('same', 'same'), 0);
});

test('nearest suggests only a likely typo, case-insensitively, or a name the word begins', () => {
  assert.equal(nearest('pollIntervallMs', KNOWN), 'pollIntervalMs');
  assert.equal(nearest('POLLINTERVALMS', KNOWN), 'pollIntervalMs');
  assert.equal(nearest('stroe', KNOWN), 'store');
  assert.equal(nearest('payload', KNOWN), 'payloadMaxBytes', 'a prefix of a valid name');
  assert.equal(nearest('colour', KNOWN), null, 'nothing close');
  assert.equal(nearest('x', KNOWN), null);
  assert.equal(nearest('anything', []), null);
});

test('checkOptionKeys accepts known keys and undefined, refuses an unknown key naming it and the nearest valid one', () => {
  checkOptionKeys({ pollIntervalMs: 5, store: 'memory' }, KNOWN, 'Spool.open');
  checkOptionKeys({}, KNOWN, 'Spool.open');
  checkOptionKeys(undefined, KNOWN, 'Spool.open');
  assert.throws(() => checkOptionKeys({ pollIntervallMs: 5 }, KNOWN, 'Spool.open'), (err: InvalidArgumentError) => {
    assert.ok(err instanceof InvalidArgumentError);
    assert.equal(err.code, 'INVALID_ARGUMENT');
    assert.equal(err.field, 'pollIntervallMs');
    assert.equal(err.message, 'Spool.open: unknown option "pollIntervallMs"; did you mean "pollIntervalMs"?');
    return true;
  });
});

test('checkOptionKeys lists the valid keys when nothing is close, and points a queue setting at configure()', () => {
  assert.throws(() => checkOptionKeys({ colour: 'red' }, KNOWN, 'Spool.open'), {
    field: 'colour',
    message: 'Spool.open: unknown option "colour"; valid options: pollIntervalMs, payloadMaxBytes, maintenance, store',
  });
  for (const key of ['visibilityTimeoutMs', 'maxAttempts', 'maxStalls', 'backoff']) {
    assert.throws(() => checkOptionKeys({ [key]: 5 }, KNOWN, 'Spool.open'), {
      field: key,
      message: `Spool.open: unknown option "${key}"; it is a queue setting: set it with spool.queue(name).configure({ ${key} })`,
    });
  }
});

test('checkOptionKeys names the noun and prefixes the field of a nested object', () => {
  assert.throws(() => checkOptionKeys({ delay: 5 }, ['type', 'delayMs', 'maxDelayMs'], 'queue.configure', 'backoff setting', 'backoff.'), {
    field: 'backoff.delay',
    message: 'queue.configure: unknown backoff setting "delay"; did you mean "delayMs"?',
  });
});

test('checkOptionKeys refuses an options argument that is not an object', () => {
  for (const bad of [null, 'memory', 5, true, [1, 2], () => {}]) {
    assert.throws(() => checkOptionKeys(bad, KNOWN, 'Spool.open'), (err: InvalidArgumentError) => {
      assert.ok(err instanceof InvalidArgumentError);
      assert.equal(err.field, 'options');
      assert.match(err.message, /^Spool\.open: options must be an object \(got /);
      return true;
    });
  }
});

test('checkOptionType checks non-numeric options, passing undefined', () => {
  checkOptionType(undefined, 'token', 'string');
  checkOptionType('t', 'token', 'string');
  checkOptionType(false, 'notify', 'boolean');
  checkOptionType(() => {}, 'log', 'function');
  checkOptionType({}, 'clock', 'object');
  assert.throws(() => checkOptionType(5, 'token', 'string'), { field: 'token', message: 'token must be a string (got 5)' });
  assert.throws(() => checkOptionType('yes', 'notify', 'boolean'), { field: 'notify', message: 'notify must be a boolean (got "yes")' });
  assert.throws(() => checkOptionType(null, 'clock', 'object'), { field: 'clock', message: 'clock must be an object (got null)' });
  assert.throws(() => checkOptionType([], 'clock', 'object'), { field: 'clock' });
});
