/** Every SQS action this endpoint serves, by name. */
import type { SqsContext } from './context.ts';
import { createQueue, deleteQueue, getQueueAttributes, getQueueUrl, listDeadLetterSourceQueues, listQueues, listQueueTags, purgeQueue, setQueueAttributes, tagQueue, untagQueue } from './queues.ts';
import { receiveMessage } from './receive.ts';
import { startMessageMoveTask } from './redrive.ts';
import { sendMessage, sendMessageBatch } from './send.ts';
import { changeMessageVisibility, changeMessageVisibilityBatch, deleteMessage, deleteMessageBatch } from './settle.ts';

type Action = (ctx: SqsContext, input: any) => Promise<unknown>;

export const ACTIONS: Readonly<Record<string, Action>> = {
  CreateQueue: createQueue,
  GetQueueUrl: getQueueUrl,
  ListQueues: listQueues,
  DeleteQueue: deleteQueue,
  PurgeQueue: purgeQueue,
  GetQueueAttributes: getQueueAttributes,
  SetQueueAttributes: setQueueAttributes,
  TagQueue: tagQueue,
  UntagQueue: untagQueue,
  ListQueueTags: listQueueTags,
  ListDeadLetterSourceQueues: listDeadLetterSourceQueues,
  SendMessage: sendMessage,
  SendMessageBatch: sendMessageBatch,
  ReceiveMessage: receiveMessage,
  DeleteMessage: deleteMessage,
  DeleteMessageBatch: deleteMessageBatch,
  ChangeMessageVisibility: changeMessageVisibility,
  ChangeMessageVisibilityBatch: changeMessageVisibilityBatch,
  StartMessageMoveTask: startMessageMoveTask,
};

/** SQS actions this endpoint knows and refuses with UnsupportedOperation (docs/sqs.md says why). */
export const UNSUPPORTED = new Set(['AddPermission', 'RemovePermission', 'CancelMessageMoveTask', 'ListMessageMoveTasks']);
