import assert from 'node:assert/strict';
import { test } from 'node:test';
import { firstOffset, readOffset, sharedClock } from './shared-clock.ts';

/** A wall clock and a monotonic one the test moves by hand. */
function fakeClocks() {
  const c = { wall: 1_800_000_000_000, mono: 5_000 };
  return { c, wall: () => c.wall, mono: () => c.mono };
}

test('a shared clock reads the reference: the wall clock plus the offset of the first reading', () => {
  const { c, wall, mono } = fakeClocks();
  const clock = sharedClock(30_000, wall, mono);
  assert.equal(clock.now(), c.wall + 30_000);
  c.wall += 1000;
  c.mono += 1000;
  assert.equal(clock.now(), c.wall + 30_000);
  assert.equal(clock.referenceOffsetMs(), 30_000);
});

test("a step of this machine's clock is undone by the next reading: time strays by at most 10 % of the time between readings", () => {
  const { c, wall, mono } = fakeClocks();
  const clock = sharedClock(0, wall, mono);
  const reference = () => c.mono + 1_800_000_000_000 - 5_000; // the server's clock: never stepped
  assert.equal(clock.now(), reference());
  // The machine's clock is stepped 60 s back; a second later the next reading comes.
  c.wall -= 60_000;
  c.mono += 1000;
  c.wall += 1000;
  assert.equal(clock.now(), reference() - 100, 'between readings it runs at most 10 % slow');
  clock.reference(reference() - c.wall); // the reading: the server is now 60 s ahead of this machine
  for (let i = 0; i < 10; i++) {
    c.mono += 100;
    c.wall += 100;
    assert.ok(clock.now() <= reference(), 'never ahead of the server');
  }
  assert.equal(clock.now(), reference(), 'caught up 10 % fast: 100 ms in 1 s');
});

test('a reading is the server clock against the middle of its round trip; one that straddles a step is refused', async () => {
  const { c, wall, mono } = fakeClocks();
  const server = async () => {
    c.mono += 40;
    c.wall += 40;
    const t = c.wall + 2_000; // the server is 2 s ahead, read mid-trip
    c.mono += 40;
    c.wall += 40;
    return t;
  };
  assert.deepEqual(await readOffset(server, wall, mono), { offsetMs: 2_000, rttMs: 80 });
  const stepped = async () => {
    c.mono += 10;
    c.wall += 10 - 30_000; // stepped back meanwhile
    return c.wall;
  };
  assert.equal(await readOffset(stepped, wall, mono), null);
});

test('the first reading is the best of a few: the shortest round trip', async () => {
  let calls = 0;
  const offset = await firstOffset(async () => {
    calls++;
    return Date.now() + 10_000;
  });
  assert.ok(calls >= 1 && calls <= 3);
  assert.ok(offset !== null && Math.abs(offset - 10_000) < 1000, `offset ${offset}`);
});
