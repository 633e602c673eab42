import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { storableText } from '../engine/inputs.ts';
import { InvalidArgumentError, PayloadTooLargeError } from './errors.ts';
import { checkJobName, encodeJson } from './validate.ts';

const MiB = 1024 * 1024;

function refusal(fn: () => unknown): InvalidArgumentError {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof InvalidArgumentError, `INVALID_ARGUMENT, not ${(err as Error).constructor.name}: ${(err as Error).message}`);
    return err;
  }
  assert.fail('expected a refusal');
}

function nested(depth: number, leaf: unknown): unknown {
  let v: unknown = leaf;
  for (let i = 0; i < depth; i++) v = [v];
  return v;
}

/** Whether parsed JSON holds only strings (values and keys) a store can keep. */
function cleanStrings(json: unknown): boolean {
  if (typeof json === 'string') return !json.includes('\u0000') && json.isWellFormed();
  if (Array.isArray(json)) return json.every(cleanStrings);
  if (typeof json === 'object' && json !== null) return Object.entries(json).every(([k, v]) => cleanStrings(k) && cleanStrings(v));
  return true;
}

describe('encodeJson', () => {
  it('is JSON.stringify for ordinary values', () => {
    for (const v of [{ user: 1, to: 'a@example.com' }, [1, 'two', null], 'text', 0, -0, true, null, { d: new Date(0) }]) {
      assert.equal(encodeJson(v, MiB), JSON.stringify(v));
    }
  });

  it('is not fooled by an escaped backslash before u0000 or udXXX: that is text, and kept', () => {
    assert.equal(encodeJson('\\u0000', MiB), '"\\\\u0000"');
    assert.equal(encodeJson({ a: '\\\\ud800', b: '\\\\\\u0000' }, MiB), JSON.stringify({ a: '\\\\ud800', b: '\\\\\\u0000' }));
  });

  it('refuses U+0000, lone surrogates and non-finite numbers, naming the path and the field', () => {
    const r = refusal(() => encodeJson({ user: { name: 'a\u0000' } }, MiB));
    assert.equal(r.field, 'payload');
    assert.equal(r.message, 'payload.user.name contains the character U+0000 (NUL) at index 1, which Spool does not store (PostgreSQL cannot hold it): remove it, or encode binary data as base64');
    assert.match(refusal(() => encodeJson({ items: [0, 1, 2, '\ud800'] }, MiB, 'result')).message, /^result\.items\[3\] contains an unpaired surrogate \(\\ud800\) at index 0/);
    assert.equal(refusal(() => encodeJson({ score: NaN }, MiB)).message, 'payload.score is NaN; JSON has no NaN or Infinity: send null or a string');
    assert.match(refusal(() => encodeJson({ 'a b': { 'c-d': [Infinity] } }, MiB)).message, /^payload\["a b"\]\["c-d"\]\[0\] is Infinity;/);
    assert.match(refusal(() => encodeJson(new Float64Array([1, NaN]), MiB)).message, /^payload\["1"\] is NaN/);
    assert.match(refusal(() => encodeJson(Object(NaN), MiB)).message, /^payload is NaN/);
    assert.match(refusal(() => encodeJson({ d: { toJSON: () => 'x\u0000' } }, MiB)).message, /^payload\.d contains the character U\+0000/);
  });

  it('refuses BigInt, circular structures and values nested past what JSON.stringify can do, as INVALID_ARGUMENT', () => {
    assert.match(refusal(() => encodeJson({ n: [1n] }, MiB)).message, /^payload\.n\[0\] is a BigInt \(1n\)/);
    const o: Record<string, unknown> = { list: [{}] };
    (o.list as Record<string, unknown>[])[0]!.back = o;
    assert.match(refusal(() => encodeJson(o, MiB)).message, /^payload\.list\[0\]\.back refers back to payload: a circular structure/);
    assert.match(refusal(() => encodeJson(nested(100_000, 1), 1024 * MiB)).message, /^payload is nested too deeply/);
    const toJsonThrows = { toJSON: () => { throw new Error('nope'); } };
    assert.match(refusal(() => encodeJson(toJsonThrows, MiB)).message, /^payload is not JSON-serialisable: nope/);
  });

  it('leaves out members JSON leaves out, and walks as deep as JSON.stringify goes', () => {
    assert.equal(encodeJson({ u: undefined, f: () => 1, s: Symbol('x'), 'k\u0000': undefined, a: [undefined, () => 1] }, MiB), '{"a":[null,null]}');
    const deep = nested(3000, null); // a null makes the walk run
    assert.equal(encodeJson(deep, 64 * MiB), JSON.stringify(deep));
  });

  it('checks the size before walking', () => {
    assert.throws(() => encodeJson({ big: 'x'.repeat(2000), n: NaN }, 1024), PayloadTooLargeError);
  });

  it('property: on anything, returns JSON.stringify or refuses with INVALID_ARGUMENT, never another error', () => {
    const anything = fc.anything({
      withBigInt: true, withBoxedValues: true, withDate: true, withMap: true, withSet: true, withTypedArray: true,
      withSparseArray: true, withNullPrototype: true, withObjectString: true, stringUnit: 'binary',
    });
    fc.assert(
      fc.property(anything, (value) => {
        let text: string;
        try {
          text = encodeJson(value, 64 * MiB);
        } catch (err) {
          assert.ok(err instanceof InvalidArgumentError, `${(err as Error).constructor.name}: ${(err as Error).message}`);
          return;
        }
        assert.equal(text, JSON.stringify(value));
        assert.ok(cleanStrings(JSON.parse(text)), `no U+0000 or lone surrogate got through: ${text.slice(0, 200)}`);
      }),
      { numRuns: 500 },
    );
  });
});

describe('checkJobName', () => {
  it('refuses U+0000 and lone surrogates, and keeps other text', () => {
    assert.equal(refusal(() => checkJobName('a\u0000')).field, 'name');
    assert.match(refusal(() => checkJobName('\udfff')).message, /unpaired surrogate/);
    assert.equal(checkJobName('send 📧'), 'send 📧');
  });
});

describe('storableText (error text from user code)', () => {
  it('replaces U+0000 and lone surrogates with U+FFFD, and keeps valid pairs', () => {
    assert.equal(storableText('a\u0000b\ud800c\udc00😀'), 'a\ufffdb\ufffdc\ufffd😀');
    const plain = 'nothing to do';
    assert.equal(storableText(plain), plain);
  });
});
