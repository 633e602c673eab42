import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { insertAndClaim, leaseOf, newRow, settlesWithin, T, withStore, type DriverContext } from './harness.ts';

/** Queue names announced to a subscriber, awaited one at a time (never by sleeping). */
class Announcements {
  readonly #seen: string[] = [];
  #waiting: ((queue: string) => void) | null = null;

  readonly listener = (queue: string): void => {
    if (this.#waiting) {
      const resolve = this.#waiting;
      this.#waiting = null;
      resolve(queue);
    } else this.#seen.push(queue);
  };

  /** The next queue announced (announcements arrive in the order their writes committed). */
  next(what: string): Promise<string> {
    const queued = this.#seen.shift();
    if (queued !== undefined) return Promise.resolve(queued);
    return settlesWithin(new Promise<string>((resolve) => (this.#waiting = resolve)), 10_000, `announcement of ${what}`);
  }

  get pending(): readonly string[] {
    return this.#seen;
  }
}

/** onReady: writes through one store that make jobs ready are announced to subscribers of another. */
export function notifyArea(ctx: DriverContext): void {
  const skip = ctx.skip('notify', 'onReady', 'crossProcessNotify', 'shared');
  describe('wake-ups across stores (onReady)', () => {
    it('a ready insert, a promotion, a failure retried now, a release and a retry by another store each announce their queue', { skip }, () =>
      withStore(ctx, async (listening, d) => {
        const heard = new Announcements();
        const unsubscribe = listening.onReady!(heard.listener);
        const writer = await d.open();
        await writer.jobsInsertMany([newRow(1, { queue: 'added' })]);
        assert.equal(await heard.next('an insert'), 'added');
        // A scheduled insert makes nothing ready: the next announcement is the promotion's.
        await writer.jobsInsertMany([newRow(2, { queue: 'later', state: 'scheduled', runAt: T + 100 })]);
        await writer.jobsPromoteDue({ now: T + 100, limit: 10 });
        assert.equal(await heard.next('a promotion'), 'later');
        // Scheduled (due) rather than ready, so that their insert announces nothing.
        const due = { queue: 'work', state: 'scheduled', runAt: T } as const;
        const [failed, released] = await insertAndClaim(writer, [newRow(3, due), newRow(4, due)]);
        await writer.jobsFail([{ lease: leaseOf(failed!), error: 'x', retryAt: T, unrecoverable: false }], T);
        assert.equal(await heard.next('a failure retried now'), 'work');
        await writer.jobsRelease([leaseOf(released!)], T);
        assert.equal(await heard.next('a release'), 'work');
        await writer.jobsCancel([newRow(1).id], T);
        await writer.jobsRetry([newRow(1).id], T);
        assert.equal(await heard.next('a retry'), 'added');
        unsubscribe();
        const still = new Announcements();
        listening.onReady!(still.listener);
        await writer.jobsInsertMany([newRow(5, { queue: 'after' })]);
        assert.equal(await still.next('an insert'), 'after');
        assert.deepEqual(heard.pending, [], 'an unsubscribed listener hears nothing more');
      }));
  });
}
