/**
 * SQS errors: the codes real clients branch on, with the HTTP status, the fault side and the
 * Query protocol's code (what the `x-amzn-query-error` header and an XML error carry), and the
 * one table that maps Spool's error codes onto them.
 */
import { SpoolError } from '../../core/errors.ts';
import type { ErrorCode } from '../../core/error-codes.ts';

interface SqsErrorSpec {
  status: number;
  /** The code of the Query protocol (and of the `x-amzn-query-error` header); the JSON `__type` is the key. */
  query: string;
  fault: 'Sender' | 'Receiver';
}

/** The SQS errors this endpoint answers with, as AWS's API model names them. */
export const SQS_ERRORS = {
  QueueDoesNotExist: { status: 400, query: 'AWS.SimpleQueueService.NonExistentQueue', fault: 'Sender' },
  QueueNameExists: { status: 400, query: 'QueueAlreadyExists', fault: 'Sender' },
  ReceiptHandleIsInvalid: { status: 404, query: 'ReceiptHandleIsInvalid', fault: 'Sender' },
  MessageNotInflight: { status: 400, query: 'AWS.SimpleQueueService.MessageNotInflight', fault: 'Sender' },
  EmptyBatchRequest: { status: 400, query: 'AWS.SimpleQueueService.EmptyBatchRequest', fault: 'Sender' },
  TooManyEntriesInBatchRequest: { status: 400, query: 'AWS.SimpleQueueService.TooManyEntriesInBatchRequest', fault: 'Sender' },
  BatchEntryIdsNotDistinct: { status: 400, query: 'AWS.SimpleQueueService.BatchEntryIdsNotDistinct', fault: 'Sender' },
  InvalidBatchEntryId: { status: 400, query: 'AWS.SimpleQueueService.InvalidBatchEntryId', fault: 'Sender' },
  BatchRequestTooLong: { status: 400, query: 'AWS.SimpleQueueService.BatchRequestTooLong', fault: 'Sender' },
  UnsupportedOperation: { status: 400, query: 'AWS.SimpleQueueService.UnsupportedOperation', fault: 'Sender' },
  InvalidAddress: { status: 404, query: 'InvalidAddress', fault: 'Sender' },
  InvalidAttributeName: { status: 400, query: 'InvalidAttributeName', fault: 'Sender' },
  InvalidAttributeValue: { status: 400, query: 'InvalidAttributeValue', fault: 'Sender' },
  InvalidMessageContents: { status: 400, query: 'InvalidMessageContents', fault: 'Sender' },
  OverLimit: { status: 403, query: 'OverLimit', fault: 'Sender' },
  ResourceNotFoundException: { status: 404, query: 'ResourceNotFoundException', fault: 'Sender' },
  InvalidParameterValue: { status: 400, query: 'InvalidParameterValue', fault: 'Sender' },
  MissingParameter: { status: 400, query: 'MissingParameter', fault: 'Sender' },
  InvalidAction: { status: 400, query: 'InvalidAction', fault: 'Sender' },
  MissingAuthenticationToken: { status: 403, query: 'MissingAuthenticationToken', fault: 'Sender' },
  IncompleteSignature: { status: 400, query: 'IncompleteSignature', fault: 'Sender' },
  InvalidClientTokenId: { status: 403, query: 'InvalidClientTokenId', fault: 'Sender' },
  SignatureDoesNotMatch: { status: 403, query: 'SignatureDoesNotMatch', fault: 'Sender' },
  RequestExpired: { status: 400, query: 'RequestExpired', fault: 'Sender' },
  AccessDenied: { status: 403, query: 'AccessDenied', fault: 'Sender' },
  RequestThrottled: { status: 403, query: 'RequestThrottled', fault: 'Sender' },
  ServiceUnavailable: { status: 503, query: 'ServiceUnavailable', fault: 'Receiver' },
  InternalFailure: { status: 500, query: 'InternalFailure', fault: 'Receiver' },
} as const satisfies Record<string, SqsErrorSpec>;

export type SqsErrorCode = keyof typeof SQS_ERRORS;

/** An error to answer in SQS's shape. */
export class SqsError extends Error {
  readonly code: SqsErrorCode;
  constructor(code: SqsErrorCode, message: string) {
    super(message);
    this.code = code;
  }
  get spec(): SqsErrorSpec {
    return SQS_ERRORS[this.code];
  }
}

/**
 * Spool's error codes and the SQS error each becomes. A code left out is a fault of ours
 * (InternalFailure). STALE_LEASE is not here: what a stale receipt handle does depends on the
 * action (see messages.ts).
 */
const FROM_SPOOL: Partial<Record<ErrorCode, SqsErrorCode>> = {
  INVALID_ARGUMENT: 'InvalidParameterValue',
  PAYLOAD_TOO_LARGE: 'InvalidParameterValue',
  QUEUE_NOT_FOUND: 'QueueDoesNotExist',
  JOB_NOT_FOUND: 'ReceiptHandleIsInvalid',
  INVALID_STATE: 'InvalidParameterValue',
  UNAUTHORIZED: 'InvalidClientTokenId',
  FORBIDDEN: 'AccessDenied',
  QUEUE_FULL: 'OverLimit',
  TOO_MANY: 'RequestThrottled',
  STORE_UNAVAILABLE: 'ServiceUnavailable',
  UNAVAILABLE: 'ServiceUnavailable',
  CLOSED: 'ServiceUnavailable',
};

/** Any error as an SqsError: SQS's own as they are, Spool's through the table, anything else InternalFailure. */
export function toSqsError(err: unknown): SqsError {
  if (err instanceof SqsError) return err;
  if (err instanceof SpoolError) {
    const code = FROM_SPOOL[err.code as ErrorCode];
    if (code) return new SqsError(code, err.message);
  }
  return new SqsError('InternalFailure', 'internal error; see the server log');
}

/** Whether an SqsError is a fault of ours (logged with its cause). */
export const isOurFault = (err: SqsError): boolean => err.spec.fault === 'Receiver';
