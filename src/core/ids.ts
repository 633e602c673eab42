import { randomFillSync } from 'node:crypto';

/**
 * Job ids are UUIDv7 (RFC 9562): 48 bits of Unix milliseconds, then a 12-bit
 * counter, then 62 random bits. Ids from one process sort in creation order
 * (method 1 of the RFC: the counter starts at a random value each millisecond
 * and, if it would overflow, borrows from the next millisecond), and ids from
 * different processes do not collide. PostgreSQL stores them as native `uuid`.
 */

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));
const POOL_BYTES = 8 * 1024;
const pool = Buffer.allocUnsafe(POOL_BYTES);
let poolOffset = POOL_BYTES;

let lastMs = 0;
let counter = 0;

function randomBytes8(): number {
  if (poolOffset + 8 > POOL_BYTES) {
    randomFillSync(pool);
    poolOffset = 0;
  }
  const at = poolOffset;
  poolOffset += 8;
  return at;
}

/** A new time-sortable unique id (UUIDv7 text form). */
export function newJobId(nowMs: number = Date.now()): string {
  if (nowMs > lastMs) {
    lastMs = nowMs;
    const r = randomBytes8();
    counter = ((pool[r]! << 8) | pool[r + 1]!) & 0x7ff; // start in the lower half to leave room to count
  } else {
    counter++;
    if (counter > 0xfff) {
      lastMs++;
      counter = 0;
    }
  }
  const ms = lastMs;
  const hi = Math.floor(ms / 0x100000000);
  const lo = ms >>> 0;
  const r = randomBytes8();
  return (
    HEX[(hi >>> 8) & 0xff]! + HEX[hi & 0xff]! + HEX[(lo >>> 24) & 0xff]! + HEX[(lo >>> 16) & 0xff]! + '-' +
    HEX[(lo >>> 8) & 0xff]! + HEX[lo & 0xff]! + '-' +
    HEX[0x70 | (counter >>> 8)]! + HEX[counter & 0xff]! + '-' +
    HEX[0x80 | (pool[r]! & 0x3f)]! + HEX[pool[r + 1]!]! + '-' +
    HEX[pool[r + 2]!]! + HEX[pool[r + 3]!]! + HEX[pool[r + 4]!]! + HEX[pool[r + 5]!]! + HEX[pool[r + 6]!]! + HEX[pool[r + 7]!]!
  );
}

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
/** A job id's form, as a pattern for the API description. */
export const JOB_ID_PATTERN = UUID_RE.source;

/** True when `id` has the shape of a job id. */
export function isJobId(id: unknown): id is string {
  return typeof id === 'string' && UUID_RE.test(id);
}

/** The creation time (Unix ms) encoded in a job id. */
export function jobIdTime(id: string): number {
  return parseInt(id.slice(0, 8) + id.slice(9, 13), 16);
}

/** The latest millisecond a job id can hold: 48 bits. */
export const JOB_ID_MAX_MS = 2 ** 48 - 1;

/**
 * The smallest and largest UUIDv7 of millisecond `ms` (version 7, RFC variant; counter and
 * random bits all 0, or all 1). Every job id made in that millisecond lies between them, and
 * every id of an earlier (later) millisecond sorts below (above) them, so a time range is an
 * id range: a list by creation time reads the (queue, state, id) index from one to the other.
 */
export function jobIdBounds(ms: number): { first: string; last: string; below: string } {
  if (!Number.isInteger(ms) || ms < 0 || ms > JOB_ID_MAX_MS) throw new RangeError(`a job id time is an integer in 0..${JOB_ID_MAX_MS} (got ${ms})`);
  const hex = ms.toString(16).padStart(12, '0');
  const time = `${hex.slice(0, 8)}-${hex.slice(8)}`;
  // `below` (version nibble 0) sorts after every id of an earlier millisecond and before `first`:
  // an exclusive lower bound (a list's `after`) that takes `first` itself in.
  return { first: `${time}-7000-8000-000000000000`, last: `${time}-7fff-bfff-ffffffffffff`, below: `${time}-0000-0000-000000000000` };
}
