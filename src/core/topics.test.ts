import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { InvalidArgumentError } from './errors.ts';
import { checkTopic, checkTopicPattern, TopicMatcher, topicMatches } from './topics.ts';

/**
 * The matching table of docs/routing.md, and more: [pattern, topic, matches]. The rows marked
 * "matcher only" use words the API refuses (empty ones): the matcher's semantics stay those of
 * AMQP for them, so a future relaxation of the rule changes nothing about routing.
 */
const TABLE: [string, string, boolean][] = [
  // Literal words: equal, word by word.
  ['orders.eu.created', 'orders.eu.created', true],
  ['orders.eu.created', 'orders.eu', false],
  ['orders.eu.created', 'orders.eu.created.x', false],
  ['orders.eu', 'orders.EU', false], // case matters
  ['orders', 'orders', true],
  // `*`: exactly one word.
  ['orders.*.created', 'orders.eu.created', true],
  ['orders.*.created', 'orders.created', false],
  ['orders.*.created', 'orders.eu.fr.created', false],
  ['*', 'orders', true],
  ['*', 'orders.eu', false],
  ['*.*', 'a.b', true],
  ['*.*', 'a', false],
  ['orders.*', 'orders', false],
  // `#`: zero or more words.
  ['orders.#', 'orders', true],
  ['orders.#', 'orders.eu', true],
  ['orders.#', 'orders.eu.created', true],
  ['orders.#', 'ordersx', false],
  ['orders.#', 'shipping.orders', false],
  ['#', 'a', true], // `#` alone matches every topic
  ['#', 'a.b.c.d.e', true],
  ['#.created', 'created', true],
  ['#.created', 'orders.eu.created', true],
  ['#.created', 'orders.eu.created.late', false],
  // `#` in the middle: zero words, one, or several.
  ['orders.#.created', 'orders.created', true],
  ['orders.#.created', 'orders.eu.created', true],
  ['orders.#.created', 'orders.eu.fr.paris.created', true],
  ['orders.#.created', 'orders.eu.updated', false],
  ['orders.#.created', 'orders.created.eu', false],
  ['a.#.b.#.c', 'a.b.c', true],
  ['a.#.b.#.c', 'a.x.b.y.z.c', true],
  ['a.#.b.#.c', 'a.x.c', false],
  // Wildcards together.
  ['#.#', 'a', true],
  ['*.#', 'a', true],
  ['*.#', 'a.b.c', true],
  ['#.*', 'a', true],
  ['*.#.*', 'a', false],
  ['*.#.*', 'a.b', true],
  ['#.*.#', 'a.b.c', true],
  ['orders.*.#', 'orders', false],
  ['orders.*.#', 'orders.eu', true],
  // Empty words (matcher only: the API refuses them). `*` matches an empty word, `#` any run.
  ['a.*.b', 'a..b', true],
  ['a.#', 'a.', true],
  ['a..b', 'a..b', true],
  ['a.b', 'a..b', false],
  ['#', '', true],
];

/**
 * The reference: a pattern as a regular expression over the topic with a '.' before each word
 * (so `#` taking no word leaves no separator to account for): a word `w` is `\.w`, `*` is one
 * `\.word`, `#` any number of them.
 */
function reference(pattern: string, topic: string): boolean {
  const re = pattern.split('.').map((w) => (w === '#' ? '(?:\\.[^.]*)*' : w === '*' ? '\\.[^.]*' : '\\.' + w.replace(/[-\\^$*+?.()|[\]{}]/g, '\\$&'))).join('');
  return new RegExp(`^${re}$`).test('.' + topic);
}

describe('topic matching (AMQP topic semantics)', () => {
  for (const [pattern, topic, expected] of TABLE) {
    it(`${JSON.stringify(pattern)} ${expected ? 'matches' : 'does not match'} ${JSON.stringify(topic)}`, () => {
      assert.equal(topicMatches(pattern, topic), expected);
      assert.equal(reference(pattern, topic), expected, 'the reference agrees with the table');
    });
  }

  it('agrees with the regular-expression reference on generated patterns and topics', () => {
    const word = fc.constantFrom('a', 'b', 'c');
    const topic = fc.array(word, { minLength: 1, maxLength: 6 }).map((w) => w.join('.'));
    const pattern = fc.array(fc.constantFrom('a', 'b', '*', '#'), { minLength: 1, maxLength: 6 }).map((w) => w.join('.'));
    fc.assert(fc.property(pattern, topic, (p, t) => topicMatches(p, t) === reference(p, t)), { numRuns: 5000 });
  });

  it('routes to each bound queue once, in name order, whatever the number of patterns naming it', () => {
    const m = new TopicMatcher([
      { pattern: 'orders.#', queue: 'audit' },
      { pattern: 'orders.*.created', queue: 'billing' },
      { pattern: 'orders.eu.created', queue: 'billing' },
      { pattern: '#', queue: 'audit' },
      { pattern: 'orders.us.*', queue: 'us' },
    ]);
    assert.deepEqual(m.match('orders.eu.created'), ['audit', 'billing']);
    assert.deepEqual(m.match('orders.us.created'), ['audit', 'billing', 'us']);
    assert.deepEqual(m.match('shipping'), ['audit']);
    assert.deepEqual(new TopicMatcher([]).match('x'), []);
  });

  it('a set of bindings matches as each binding alone does', () => {
    const pat = fc.array(fc.constantFrom('a', 'b', '*', '#'), { minLength: 1, maxLength: 4 }).map((w) => w.join('.'));
    const binding = fc.record({ pattern: pat, queue: fc.constantFrom('q1', 'q2', 'q3', 'q4') });
    const topic = fc.array(fc.constantFrom('a', 'b'), { minLength: 1, maxLength: 5 }).map((w) => w.join('.'));
    fc.assert(fc.property(fc.array(binding, { maxLength: 8 }), topic, (bs, t) => {
      const want = [...new Set(bs.filter((b) => reference(b.pattern, t)).map((b) => b.queue))].sort();
      assert.deepEqual(new TopicMatcher(bs).match(t), want);
    }), { numRuns: 2000 });
  });
});

describe('topic and pattern rules', () => {
  const refused = (fn: () => unknown, field: string, text: RegExp) => assert.throws(fn, (e: unknown) => e instanceof InvalidArgumentError && e.field === field && text.test(e.message));
  it('a topic is words of a safe charset joined by dots, 1–255 characters', () => {
    for (const ok of ['orders', 'orders.eu.created', 'a-b_c.9', 'x'.repeat(255)]) assert.equal(checkTopic(ok), ok);
    for (const bad of ['', 'a..b', '.a', 'a.', 'a b', 'orders/eu', 'x'.repeat(256), 42, null]) refused(() => checkTopic(bad), 'topic', /not valid: use 1–255 characters/);
    refused(() => checkTopic('orders.*'), 'topic', /belong in a binding's pattern/);
  });
  it('a pattern may also hold `*` and `#` as whole words, never mixed with letters', () => {
    for (const ok of ['#', '*', 'orders.#', 'orders.*.created', '#.x.#']) assert.equal(checkTopicPattern(ok), ok);
    for (const bad of ['', 'ord*', 'orders.#x', 'a..#', '**', 'a.', 'x'.repeat(256)]) refused(() => checkTopicPattern(bad), 'pattern', /'\*' \(exactly one word\) or '#'/);
  });
});
