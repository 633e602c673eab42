import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { InvalidArgumentError } from '../../core/errors.ts';
import { ALL_ACCESS, matchesPattern, parseScope, principalOf } from './scopes.ts';

describe('scopes', () => {
  it('parses publish, consume, view and admin; only the first colon separates the action', () => {
    assert.deepEqual(parseScope('admin'), { kind: 'admin', text: 'admin' });
    assert.deepEqual(parseScope('view'), { kind: 'view', text: 'view' });
    assert.deepEqual(parseScope('sqs'), { kind: 'sqs', text: 'sqs' });
    assert.deepEqual(parseScope('publish:orders.*'), { kind: 'publish', pattern: 'orders.*', text: 'publish:orders.*' });
    assert.deepEqual(parseScope('consume:*'), { kind: 'consume', pattern: '*', text: 'consume:*' });
    assert.deepEqual(parseScope('consume:tenant:42'), { kind: 'consume', pattern: 'tenant:42', text: 'consume:tenant:42' });
  });

  it('refuses anything else with an InvalidArgumentError that shows the grammar', () => {
    const bad: unknown[] = ['', 'publish', 'publish:', 'consume:bad name', 'publish:.x', 'read:orders', 'PUBLISH:orders', 'admin:orders', 'admin ', 'view:orders', 'view:', 'VIEW', ' view', `publish:${'a'.repeat(129)}`, 42, null];
    for (const text of bad) {
      assert.throws(() => parseScope(text), (e: Error) => e instanceof InvalidArgumentError && e.field === 'scope' && /scope/.test(e.message), String(text));
    }
    assert.throws(() => parseScope('read:orders'), /publish:<queue pattern>, consume:<queue pattern>, view, admin or sqs/);
    assert.throws(() => parseScope('sqs:orders'), /sqs takes no queue pattern/);
    assert.throws(() => parseScope('admin:orders'), /admin takes no queue pattern/);
    assert.throws(() => parseScope('view:orders'), /view takes no queue pattern/);
  });

  it('a pattern matches queue names, * standing for any run of characters', () => {
    const cases: [string, string, boolean][] = [
      ['orders.*', 'orders.eu', true],
      ['orders.*', 'orders.', true],
      ['orders.*', 'orders', false],
      ['orders.*', 'ordersXeu', false], // '.' is a literal dot
      ['*', 'anything:at-all', true],
      ['*.eu', 'orders.eu', true],
      ['*.eu', 'orders.us', false],
      ['a*b*c', 'abc', true],
      ['a*b*c', 'aXbYbZc', true],
      ['a*b*c', 'aXcYb', false],
      ['orders.eu', 'orders.eu', true],
      ['orders.eu', 'orders.eu2', false],
      ['**', '', true],
    ];
    for (const [pattern, name, expected] of cases) assert.equal(matchesPattern(pattern, name), expected, `${pattern} vs ${name}`);
  });

  it('property: matching agrees with an anchored regular expression built from the pattern', () => {
    const alphabet = fc.constantFrom('a', 'b', '.', ':');
    const pattern = fc.array(fc.oneof(alphabet, fc.constant('*')), { maxLength: 10 }).map((cs) => cs.join(''));
    const name = fc.array(alphabet, { maxLength: 12 }).map((cs) => cs.join(''));
    fc.assert(
      fc.property(pattern, name, (p, n) => {
        const re = new RegExp(`^${p.split('*').map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`, 's');
        return matchesPattern(p, n) === re.test(n);
      }),
      { numRuns: 2000 },
    );
  });

  it('property: a name always matches itself with any part replaced by *', () => {
    fc.assert(
      fc.property(fc.stringMatching(/^[a-z0-9.:_-]{1,30}$/), fc.nat(), fc.nat(), (name, a, b) => {
        const [from, to] = [a % (name.length + 1), b % (name.length + 1)].sort((x, y) => x - y) as [number, number];
        return matchesPattern(name.slice(0, from) + '*' + name.slice(to), name) && matchesPattern(name, name);
      }),
    );
  });
});

describe('principals', () => {
  const p = (...scopes: string[]) => principalOf('0123456789ab', scopes.map(parseScope));

  it('publish and consume are separate; read is allowed by either; admin only by admin', () => {
    const publisher = p('publish:orders.*');
    assert.equal(publisher.can('publish', 'orders.eu'), true);
    assert.equal(publisher.can('publish', 'other'), false);
    assert.equal(publisher.can('consume', 'orders.eu'), false);
    assert.equal(publisher.can('read', 'orders.eu'), true);
    assert.equal(publisher.can('read', 'other'), false);
    assert.equal(publisher.can('admin'), false);
    const consumer = p('consume:orders.eu', 'consume:billing');
    assert.equal(consumer.can('consume', 'orders.eu'), true);
    assert.equal(consumer.can('consume', 'orders.us'), false);
    assert.equal(consumer.can('read', 'billing'), true);
    assert.equal(consumer.can('publish', 'billing'), false);
  });

  it('view reads every queue and does nothing else; with another scope, each adds what it allows', () => {
    const viewer = p('view');
    for (const queue of ['orders.eu', 'other', 'tenant:42', undefined]) {
      assert.equal(viewer.can('read', queue), true, `read ${queue}`);
      for (const action of ['publish', 'consume', 'admin'] as const) assert.equal(viewer.can(action, queue), false, `${action} ${queue}`);
    }
    const viewingPublisher = p('view', 'publish:orders.*');
    assert.equal(viewingPublisher.can('read', 'other'), true);
    assert.equal(viewingPublisher.can('publish', 'orders.eu'), true);
    assert.equal(viewingPublisher.can('publish', 'other'), false);
    assert.equal(viewingPublisher.can('admin'), false);
  });

  it('sqs grants no action of its own: the SQS endpoint accepts the token, the other scopes say what it may do', () => {
    const sqsOnly = p('sqs');
    for (const action of ['read', 'publish', 'consume', 'admin'] as const) assert.equal(sqsOnly.can(action, 'q'), false, action);
    assert.equal(p('sqs', 'consume:q').can('consume', 'q'), true);
  });

  it('admin allows everything; so does ALL_ACCESS, which has no token', () => {
    for (const principal of [p('admin'), ALL_ACCESS]) {
      for (const action of ['publish', 'consume', 'read', 'admin'] as const) assert.equal(principal.can(action, 'any.queue'), true);
      assert.equal(principal.can('admin'), true);
    }
    assert.equal(ALL_ACCESS.tokenId, null);
  });

  it('without a queue, says whether the action is allowed on some queue', () => {
    assert.equal(p('publish:x').can('publish'), true);
    assert.equal(p('publish:x').can('consume'), false);
    assert.equal(p('consume:x').can('read'), true);
    assert.equal(p().can('read'), false);
  });
});
