import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AlertNotFoundError, InvalidArgumentError } from '../../core/errors.ts';
import { signature } from '../../alerts/webhook.ts';
import { withHarness, type Harness, type HarnessTarget } from './harness.ts';
import { waitFor } from './worker.ts';
import { webhookReceiver as receiver } from './webhook-receiver.ts';

/**
 * Moves the engine's clock past the overview's cache and runs one maintenance tick (the leader's
 * evaluation). A second at a time, letting each step's work land: a read in flight while the clock
 * jumps would look as slow as the jump, and the overview would be cached for that long.
 */
async function tick(h: Harness, ms = 1000): Promise<void> {
  for (let left = ms; left > 0; left -= 1000) {
    await h.clock.advance(Math.min(1000, left));
    await h.settled();
  }
  await h.spool.runMaintenance();
  await h.settled();
}

/** Alert rules: set, read, replaced and deleted through the contract; evaluated by maintenance; sent to a real HTTP receiver. */
export function alertsSuite(target: HarnessTarget): void {
  describe('alerts', () => {
    it('a rule fires once its condition held for forMs, is POSTed signed to its webhook, and resolves when it no longer holds', () =>
      withHarness(target, async (h) => {
        const hook = await receiver();
        try {
          const { api } = h;
          const job = await api.queue('orders').add({ n: 1 });
          const rule = await api.setAlert({ id: 'orders-stuck', queue: 'orders', kind: 'oldestReadyAge', threshold: 1000, forMs: 5000, webhook: hook.url, secret: 's3cret' });
          assert.equal(rule.state, 'ok');
          assert.equal(rule.signed, true);
          assert.equal('secret' in rule, false, 'a secret is never read back');

          // The overview a tick reads may be a second old: waited 2–3 s > 1 s, the condition holds, not yet for 5 s.
          await tick(h, 3000);
          const pending = (await api.alerts())[0]!;
          assert.equal(pending.state, 'pending');
          assert.ok(pending.value! > 1000);
          await tick(h, 2000);
          assert.equal((await api.alerts())[0]!.state, 'pending', 'held at most 4 s of 5');
          assert.deepEqual(await api.alertEvents(), []);

          await tick(h, 5000);
          const firing = (await api.alerts())[0]!;
          assert.equal(firing.state, 'firing');
          await waitFor(() => hook.calls.length === 1, 20_000, 'the firing webhook call');
          const call = hook.calls[0]!;
          assert.equal(call.body.event, 'firing');
          assert.deepEqual(call.body.rule, { id: 'orders-stuck', queue: 'orders', kind: 'oldestReadyAge', threshold: 1000 });
          assert.equal(call.body.version, 1);
          assert.equal(call.body.attempt, 1);
          assert.match(call.body.reason, /the oldest ready job has waited \d+ ms \(threshold 1000 ms\) for \d+ ms/);
          assert.equal(call.headers['spool-signature'], signature('s3cret', call.raw));
          assert.equal(call.headers['content-type'], 'application/json');
          await waitFor(async () => (await api.alertEvents())[0]?.delivery === 'delivered', 20_000, 'the delivery to be recorded');

          await tick(h);
          assert.equal(hook.calls.length, 1, 'a firing rule is sent once, not every tick');

          await api.cancel(job.id); // nothing waits any more
          await tick(h);
          assert.equal((await api.alerts())[0]!.state, 'ok');
          await waitFor(() => hook.calls.length === 2, 20_000, 'the resolution webhook call');
          assert.equal(hook.calls[1]!.body.event, 'resolved');
          assert.ok(hook.calls[1]!.body.id > hook.calls[0]!.body.id);
          const events = await api.alertEvents();
          assert.deepEqual(events.map((e) => e.event), ['resolved', 'firing'], 'newest first');
          assert.deepEqual((await api.alertEvents({ before: events[0]!.id })).map((e) => e.event), ['firing']);
          assert.deepEqual(await api.alertEvents({ ruleId: 'other' }), []);
        } finally {
          await hook.close();
        }
      }));

    it('rules are checked, listed, replaced and deleted; a firing rule changed or deleted sends its resolution', () =>
      withHarness(target, async (h) => {
        const hook = await receiver();
        try {
          const { api } = h;
          const base = { id: 'no-workers', queue: 'mail', kind: 'noWorkers' as const, webhook: hook.url };
          await assert.rejects(api.setAlert({ ...base, webhok: hook.url } as never), (err: Error) =>
            err instanceof InvalidArgumentError && err.field === 'webhok' && /did you mean "webhook"/.test(err.message));
          await assert.rejects(api.setAlert({ ...base, kind: 'noWorker' as never }), /did you mean "noWorkers"/);
          await assert.rejects(api.setAlert({ ...base, threshold: 1 }), /takes no threshold/);
          await assert.rejects(api.setAlert({ ...base, kind: 'utilisation' }), /needs a numeric threshold/);
          await assert.rejects(api.setAlert({ ...base, webhook: 'ftp://example.com/x' }), /must use http or https/);
          await assert.rejects(api.setAlert({ ...base, id: 'bad id' }), (err: Error) => err instanceof InvalidArgumentError && err.field === 'id');
          await assert.rejects(api.deleteAlert('nope'), (err: Error) => err instanceof AlertNotFoundError && err.alertId === 'nope');

          await api.queue('mail').add({ n: 1 });
          await api.setAlert(base);
          await tick(h); // no worker consumes from mail: forMs 0 fires at once
          assert.equal((await api.alerts())[0]!.state, 'firing');
          await api.setAlert({ ...base, webhook: hook.url + '&v=2' }); // the same condition: it stays firing
          assert.equal((await api.alerts())[0]!.state, 'firing');
          await api.setAlert({ ...base, forMs: 60_000 }); // a changed condition starts afresh
          assert.equal((await api.alerts())[0]!.state, 'ok');
          assert.deepEqual((await api.alertEvents()).map((e) => [e.event, e.reason]), [
            ['resolved', 'the rule was changed while firing'],
            ['firing', 'no worker is consuming from the queue'],
          ]);
          await api.setAlert({ ...base, forMs: 0 });
          await tick(h);
          await api.deleteAlert('no-workers');
          assert.deepEqual(await api.alerts(), []);
          assert.equal((await api.alertEvents())[0]!.reason, 'the rule was deleted while firing');
          await waitFor(async () => {
            await tick(h); // events recorded by a call are sent by the next tick
            return hook.calls.filter((c) => c.body.event === 'resolved').length === 2;
          }, 20_000, 'both resolutions to be sent');

          const worker = api.queue('mail').work(async () => {});
          try {
            await api.setAlert(base);
            await waitFor(async () => {
              await tick(h);
              return (await api.alerts())[0]!.value! >= 1;
            }, 20_000, 'the worker to be counted');
            assert.equal((await api.alerts())[0]!.state, 'ok', 'a consumed queue does not fire');
          } finally {
            await worker.close();
          }
        } finally {
          await hook.close();
        }
      }));

    it('a webhook that fails is retried with backoff, then the event is marked failed; at most alertRulesMax rules', () =>
      withHarness(target, async (h) => {
        const hook = await receiver(() => 500);
        try {
          const { api } = h;
          await api.queue('q').add({});
          await api.setAlert({ id: 'a', queue: 'q', kind: 'deadLetters', threshold: 0, webhook: hook.url });
          await api.setAlert({ id: 'b', queue: 'q', kind: 'noWorkers', webhook: hook.url });
          await assert.rejects(api.setAlert({ id: 'c', queue: 'q', kind: 'noWorkers', webhook: hook.url }), /already holds 2 alert rules \(alertRulesMax\)/);
          await api.deleteAlert('a');
          await tick(h); // b fires
          await waitFor(() => hook.calls.length === 1, 20_000, 'the first attempt');
          await waitFor(async () => (await api.alertEvents())[0]!.lastError !== null, 20_000, 'the failure to be recorded');
          assert.equal((await api.alertEvents())[0]!.lastError, 'the webhook answered 500');
          await tick(h, 1000); // the retry is due 1 s later
          await waitFor(() => hook.calls.length === 2, 20_000, 'the second attempt');
          assert.equal(hook.calls[1]!.body.attempt, 2);
          await waitFor(async () => (await api.alertEvents())[0]!.delivery === 'failed', 20_000, 'the event to be marked failed after 2 attempts');
          assert.equal((await api.alertEvents())[0]!.attempts, 2);
          await tick(h, 10_000);
          assert.equal(hook.calls.length, 2, 'no call after the last attempt');
        } finally {
          await hook.close();
        }
      }, { alertRulesMax: 2, alertDeliveryAttempts: 2 }));
  });
}
