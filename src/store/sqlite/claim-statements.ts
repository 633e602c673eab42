/**
 * The parts of the SQLite store's claim statements (statements.ts prepares them): what a worker's
 * resource tags cover, the per-key limit and per-key rate limit dialects of concurrency-claim.ts,
 * the windowed read, and the token a claim gives.
 */
import { windowedRead, type ConcurrencyDialect, type KeyRateDialect } from '../concurrency-claim.ts';

/**
 * Whether the claiming worker's tags (`tags`: a parameter, a JSON array of strings) cover the
 * row's `requires` (tags joined by commas; NULL: none, and nothing more is read). The stored
 * tags never hold a quote or a backslash (RESOURCE_TAG_PATTERN), so quoting them makes a JSON array.
 */
export const COVERED = (tags: string): string => `(requires IS NULL OR NOT EXISTS (
    SELECT 1 FROM json_each('["' || replace(requires, ',', '","') || '"]') r WHERE r.value NOT IN (SELECT value FROM json_each(${tags}))))`;

/**
 * The read of a claim under per-key limits without group FIFO (see claims.ts): ?1 now · ?2 queue ·
 * ?3 the window · ?4 the claiming worker's tags. Ready jobs from the claim's own index, active ones from jobs_queue_state.
 */
export const windowRead = (byKey: boolean): string => windowedRead({
  table: 'jobs', queue: '?2', yes: '1', window: '?3',
  eligible: `state = 'ready' AND (expire_at IS NULL OR token > 0 OR expire_at > ?1) AND ${COVERED('?4')}`,
  byFifo: ' INDEXED BY jobs_ready', bySortKey: ' INDEXED BY jobs_sorted', byState: ' INDEXED BY jobs_queue_state', due: null,
}, byKey);

/** The per-key limits of a claim (statements.ts `claimLimited`). */
export const LIMITED: ConcurrencyDialect = {
  table: 'jobs', queue: '?4', limit: '?5', defaultLimit: '?6', groupFifo: '?8', yes: '1',
  states: `state IN ('ready', 'active', 'scheduled') AND (state <> 'scheduled' OR ?8 = 1)`,
  eligible: `state = 'ready' AND (expire_at IS NULL OR token > 0 OR expire_at > ?2) AND ${COVERED('?9')}`,
  keyLimit: '(SELECT value FROM json_each(?7) WHERE key = ck)',
};
/** Per-key rate limits: ?10 the rule as JSON ({ limit, limits }, see KeyRateRule). */
export const KEY_RATE: KeyRateDialect = {
  table: 'rate_limits',
  name: (ck) => `'key:' || ?4 || '/' || ${ck}`,
  param: (field, ck) => `coalesce((SELECT json_extract(value, '$.${field}') FROM json_each(?10, '$.limits') WHERE key = ${ck}), json_extract(?10, '$.limit.${field}'))`,
  now: 'CAST(?2 AS INTEGER)', least: 'min', greatest: 'max', // bound as a double: integer arithmetic needs an integer
};
/**
 * The token a claim gives: one above the job's last, and above `tokenBase`, this open's lease
 * epoch (open.ts `takeLeaseEpoch`), so no token an undone claim handed out is ever issued again.
 */
export const nextToken = (tokenBase: number): string => `max(token, ${tokenBase}) + 1`;
/** What nextToken gives a job never leased (token 0): a job leased by its own insert holds it (Store.insertLeaseToken). */
export const firstToken = (tokenBase: number): number => tokenBase + 1;
