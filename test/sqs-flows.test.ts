/**
 * The SQS endpoint over time, through the official SDK against a real `spool serve --sqs-port`:
 * long polling, visibility expiry and redelivery, stale receipt handles, redrive to a
 * dead-letter queue and back, FIFO groups and deduplication. Waits are on state, never on time.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  ChangeMessageVisibilityCommand, CreateQueueCommand, DeleteMessageCommand, GetQueueAttributesCommand, GetQueueUrlCommand, ListDeadLetterSourceQueuesCommand,
  ReceiveMessageCommand, SendMessageBatchCommand, SendMessageCommand, SQSServiceException, StartMessageMoveTaskCommand, type Message, type SQSClient,
} from '@aws-sdk/client-sqs';
import { startSqsBroker, suiteCleanup, waitFor, type SqsBroker } from './support/sqs.ts';

describe('SQS endpoint flows through @aws-sdk/client-sqs', () => {
  let b: SqsBroker;
  let sqs: SQSClient;
  const onEnd = suiteCleanup(after);
  before(async () => {
    b = await startSqsBroker(onEnd);
    sqs = b.client();
  });

  const counts = async (QueueUrl: string) => (await sqs.send(new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['All'] }))).Attributes!;
  /** Receives from the queue until a message comes (each receive a long poll). */
  const next = (QueueUrl: string, extra: { VisibilityTimeout?: number } = {}): Promise<Message> =>
    waitFor(async () => (await sqs.send(new ReceiveMessageCommand({ QueueUrl, WaitTimeSeconds: 2, MessageSystemAttributeNames: ['All'], ...extra }))).Messages?.[0], `a message on ${QueueUrl}`);

  it('a long poll returns the message sent while it waits', async () => {
    const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: 'poll' }));
    // The poll is in place once its subscription holds a consumer slot of the queue (none before it).
    const slots = async () => {
      const text = await (await fetch(`${b.broker.url}/metrics`, { headers: { authorization: `Bearer ${b.admin.token!}` } })).text();
      return Number(/^spool_queue_consumer_slots\{queue="poll"\} (\d+)$/m.exec(text)?.[1] ?? 0);
    };
    assert.equal(await slots(), 0);
    const waiting = sqs.send(new ReceiveMessageCommand({ QueueUrl, WaitTimeSeconds: 20 }));
    await waitFor(async () => (await slots()) > 0, 'the long poll to be waiting');
    await sqs.send(new SendMessageCommand({ QueueUrl, MessageBody: 'wake up' }));
    const { Messages } = await waiting;
    assert.equal(Messages?.[0]?.Body, 'wake up');
  });

  it('concurrent receives each get their own messages, and every message leased went to one of them', async () => {
    const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: 'together' }));
    for (let i = 0; i < 25; i += 10) {
      const n = Math.min(10, 25 - i);
      await sqs.send(new SendMessageBatchCommand({ QueueUrl, Entries: Array.from({ length: n }, (_, k) => ({ Id: `m${i + k}`, MessageBody: `body ${i + k}` })) }));
    }
    const got = await Promise.all(Array.from({ length: 4 }, () => sqs.send(new ReceiveMessageCommand({ QueueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }))));
    const bodies = got.flatMap((r) => (r.Messages ?? []).map((m) => m.Body));
    assert.ok(got.every((r) => (r.Messages ?? []).length <= 10));
    assert.equal(bodies.length, 25, 'all 25 messages were received');
    assert.equal(new Set(bodies).size, 25, 'no message went to two receives');
    const c = await counts(QueueUrl!);
    assert.deepEqual([c.ApproximateNumberOfMessages, c.ApproximateNumberOfMessagesNotVisible], ['0', '25'], 'in flight: exactly what was handed out');
  });

  it('redelivers after the visibility timeout with a higher receive count; a stale receipt handle settles nothing', async () => {
    const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: 'vis' }));
    await sqs.send(new SendMessageCommand({ QueueUrl, MessageBody: 'again' }));
    const first = await next(QueueUrl!, { VisibilityTimeout: 1 });
    assert.equal(first.Attributes!.ApproximateReceiveCount, '1');
    const second = await next(QueueUrl!, { VisibilityTimeout: 600 });
    assert.equal(second.MessageId, first.MessageId);
    assert.equal(second.Attributes!.ApproximateReceiveCount, '2');
    assert.notEqual(second.ReceiptHandle, first.ReceiptHandle);
    // The first handle is stale: its delete succeeds (as SQS answers) and deletes nothing; a visibility change is refused.
    await sqs.send(new DeleteMessageCommand({ QueueUrl, ReceiptHandle: first.ReceiptHandle }));
    assert.equal((await counts(QueueUrl!)).ApproximateNumberOfMessagesNotVisible, '1');
    await assert.rejects(sqs.send(new ChangeMessageVisibilityCommand({ QueueUrl, ReceiptHandle: first.ReceiptHandle, VisibilityTimeout: 5 })),
      (e: unknown) => e instanceof SQSServiceException && e.name === 'InvalidParameterValue');
    // Visibility 0 gives it back at once; the current handle then is not in flight.
    await sqs.send(new ChangeMessageVisibilityCommand({ QueueUrl, ReceiptHandle: second.ReceiptHandle, VisibilityTimeout: 0 }));
    await assert.rejects(sqs.send(new ChangeMessageVisibilityCommand({ QueueUrl, ReceiptHandle: second.ReceiptHandle, VisibilityTimeout: 5 })),
      (e: unknown) => e instanceof SQSServiceException && e.name === 'MessageNotInflight');
    const third = await next(QueueUrl!);
    assert.equal(third.Attributes!.ApproximateReceiveCount, '3');
    await sqs.send(new DeleteMessageCommand({ QueueUrl, ReceiptHandle: third.ReceiptHandle }));
    const after = await counts(QueueUrl!);
    assert.equal(after.ApproximateNumberOfMessages, '0');
    assert.equal(after.ApproximateNumberOfMessagesNotVisible, '0');
  });

  it('moves a message received maxReceiveCount times to the dead-letter queue, and back with StartMessageMoveTask', async () => {
    const { QueueUrl: dlq } = await sqs.send(new CreateQueueCommand({ QueueName: 'orders-dlq' }));
    const dlqArn = (await counts(dlq!)).QueueArn!;
    const { QueueUrl } = await sqs.send(new CreateQueueCommand({
      QueueName: 'orders', Attributes: { VisibilityTimeout: '1', RedrivePolicy: JSON.stringify({ deadLetterTargetArn: dlqArn, maxReceiveCount: 2 }) },
    }));
    assert.deepEqual(JSON.parse((await counts(QueueUrl!)).RedrivePolicy!), { deadLetterTargetArn: dlqArn, maxReceiveCount: 2 });
    const sent = await sqs.send(new SendMessageCommand({ QueueUrl, MessageBody: 'poison', MessageAttributes: { k: { DataType: 'String', StringValue: 'v' } } }));
    assert.equal((await next(QueueUrl!)).Attributes!.ApproximateReceiveCount, '1');
    assert.equal((await next(QueueUrl!)).Attributes!.ApproximateReceiveCount, '2');
    const dead = await waitFor(async () => (await sqs.send(new ReceiveMessageCommand({ QueueUrl: dlq, WaitTimeSeconds: 1, MessageAttributeNames: ['All'], MessageSystemAttributeNames: ['All'] }))).Messages?.[0], 'the message in the dead-letter queue');
    assert.equal(dead.MessageId, sent.MessageId);
    assert.equal(dead.Body, 'poison');
    assert.equal(dead.MessageAttributes!.k!.StringValue, 'v');
    assert.equal(dead.Attributes!.DeadLetterQueueSourceArn, dlqArn.replace('orders-dlq', 'orders'));
    assert.deepEqual((await sqs.send(new ListDeadLetterSourceQueuesCommand({ QueueUrl: dlq }))).queueUrls, [QueueUrl]);
    // Give it back to the DLQ (visible), then move it home.
    await sqs.send(new ChangeMessageVisibilityCommand({ QueueUrl: dlq, ReceiptHandle: dead.ReceiptHandle, VisibilityTimeout: 0 }));
    await sqs.send(new StartMessageMoveTaskCommand({ SourceArn: dlqArn }));
    const home = await next(QueueUrl!);
    assert.equal(home.MessageId, sent.MessageId);
    assert.equal((await counts(dlq!)).ApproximateNumberOfMessages, '0');
  });

  it('FIFO: one message in flight per group, in order; deduplicated by id and by content', async () => {
    const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: 'jobs.fifo', Attributes: { FifoQueue: 'true', ContentBasedDeduplication: 'true' } }));
    const send = (body: string, group: string, dedup?: string) => sqs.send(new SendMessageCommand({ QueueUrl, MessageBody: body, MessageGroupId: group, ...(dedup ? { MessageDeduplicationId: dedup } : {}) }));
    const a1 = await send('a1', 'A', 'd-a1');
    const a2 = await send('a2', 'A');
    const b1 = await send('b1', 'B');
    assert.ok(BigInt(a2.SequenceNumber!) > BigInt(a1.SequenceNumber!));
    // Duplicates within the window add nothing and answer the first message's id.
    assert.equal((await send('a1 again', 'A', 'd-a1')).MessageId, a1.MessageId);
    assert.equal((await send('b1', 'B')).MessageId, b1.MessageId);
    await assert.rejects(sqs.send(new SendMessageCommand({ QueueUrl, MessageBody: 'x' })), (e: unknown) => e instanceof SQSServiceException && e.name === 'MissingParameter');

    const got = (await sqs.send(new ReceiveMessageCommand({ QueueUrl, MaxNumberOfMessages: 10, MessageSystemAttributeNames: ['All'] }))).Messages!;
    assert.deepEqual(got.map((m) => m.Body).sort(), ['a1', 'b1']);
    const m1 = got.find((m) => m.Body === 'a1')!;
    assert.equal(m1.Attributes!.MessageGroupId, 'A');
    assert.equal(m1.Attributes!.MessageDeduplicationId, 'd-a1');
    assert.equal(m1.Attributes!.SequenceNumber, a1.SequenceNumber);
    // Group A holds back a2 until a1 is deleted.
    assert.equal((await sqs.send(new ReceiveMessageCommand({ QueueUrl, MaxNumberOfMessages: 10 }))).Messages, undefined);
    await sqs.send(new DeleteMessageCommand({ QueueUrl, ReceiptHandle: m1.ReceiptHandle }));
    const after = (await sqs.send(new ReceiveMessageCommand({ QueueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 5 }))).Messages!;
    assert.deepEqual(after.map((m) => m.MessageId), [a2.MessageId]);
    // A deleted message's handle, again, on a FIFO queue: fine (already deleted); the queue needs no dedup id with content-based dedup.
    await sqs.send(new DeleteMessageCommand({ QueueUrl, ReceiptHandle: m1.ReceiptHandle }));
    assert.ok((await sqs.send(new GetQueueUrlCommand({ QueueName: 'jobs.fifo' }))).QueueUrl);
  });
});
