/** What the batch actions share: the checks of a batch as a whole, and the shape of a failed entry. */
import { SqsError, toSqsError } from './errors.ts';

/** Most entries of one batch, as on SQS. */
export const BATCH_MAX = 10;

export interface BatchFailure {
  Id: string;
  SenderFault: boolean;
  Code: string;
  Message: string;
}

/**
 * The entries of a batch, checked as SQS checks them before looking at any one.
 * @throws SqsError EmptyBatchRequest, TooManyEntriesInBatchRequest, InvalidBatchEntryId, BatchEntryIdsNotDistinct
 */
export function checkBatch<T extends { Id?: unknown }>(entries: unknown): (T & { Id: string })[] {
  if (entries === undefined || (Array.isArray(entries) && entries.length === 0)) {
    throw new SqsError('EmptyBatchRequest', 'There should be at least one SendMessageBatchRequestEntry in the request.');
  }
  if (!Array.isArray(entries)) throw new SqsError('InvalidParameterValue', 'Entries must be a list.');
  if (entries.length > BATCH_MAX) throw new SqsError('TooManyEntriesInBatchRequest', `Maximum number of entries per request are ${BATCH_MAX}. You have sent ${entries.length}.`);
  const seen = new Set<string>();
  for (const e of entries as T[]) {
    if (typeof e?.Id !== 'string' || !/^[A-Za-z0-9_-]{1,80}$/.test(e.Id)) {
      throw new SqsError('InvalidBatchEntryId', 'A batch entry id can only contain alphanumeric characters, hyphens and underscores. It can be at most 80 letters long.');
    }
    if (seen.has(e.Id)) throw new SqsError('BatchEntryIdsNotDistinct', `Id ${e.Id} repeated.`);
    seen.add(e.Id);
  }
  return entries as (T & { Id: string })[];
}

/** A failed entry from an error. */
export function failure(id: string, err: unknown): BatchFailure {
  const e = toSqsError(err);
  return { Id: id, SenderFault: e.spec.fault === 'Sender', Code: e.code, Message: e.message };
}
