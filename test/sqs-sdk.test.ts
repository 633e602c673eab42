/**
 * The official AWS SDK for JavaScript (@aws-sdk/client-sqs) against a real `spool serve
 * --sqs-port`: queue actions, messages with attributes (the SDK checks every MD5), batches with
 * partial failures, limits, and authentication. Flows over time (visibility, redrive, FIFO) are
 * in sqs-flows.test.ts.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import {
  ChangeMessageVisibilityBatchCommand, CreateQueueCommand, DeleteMessageBatchCommand, DeleteQueueCommand, GetQueueAttributesCommand,
  GetQueueUrlCommand, ListQueuesCommand, ListQueueTagsCommand, PurgeQueueCommand, ReceiveMessageCommand, SendMessageBatchCommand, SendMessageCommand,
  SetQueueAttributesCommand, SQSServiceException, TagQueueCommand, UntagQueueCommand, type SQSClient,
} from '@aws-sdk/client-sqs';
import { startSqsBroker, suiteCleanup, waitFor, type SqsBroker } from './support/sqs.ts';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** Asserts that `p` fails with the SQS error `name` (and, when given, the Query code the SDK reads from x-amzn-query-error). */
async function refused(p: Promise<unknown>, name: string, queryCode?: string): Promise<SQSServiceException> {
  let caught: unknown;
  await p.catch((err: unknown) => (caught = err));
  assert.ok(caught instanceof SQSServiceException, `expected ${name}, got ${String(caught)}`);
  assert.equal(caught.name, name, caught.message);
  if (queryCode) assert.equal((caught as { Code?: string }).Code, queryCode);
  return caught;
}

describe('SQS endpoint through @aws-sdk/client-sqs', () => {
  let b: SqsBroker;
  let sqs: SQSClient;
  const onEnd = suiteCleanup(after);
  before(async () => {
    b = await startSqsBroker(onEnd);
    sqs = b.client();
  });

  it('creates, finds, lists, configures, tags, purges and deletes queues', async () => {
    const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: 'life', Attributes: { VisibilityTimeout: '45', DelaySeconds: '2', MessageRetentionPeriod: '3600' }, tags: { team: 'core' } }));
    assert.equal(QueueUrl, `${b.url}/000000000000/life`);
    // The QueueUrl names the host the client used.
    const viaLocalhost = b.client(b.admin, b.url.replace('127.0.0.1', 'localhost'));
    assert.equal((await viaLocalhost.send(new GetQueueUrlCommand({ QueueName: 'life' }))).QueueUrl, `${b.url.replace('127.0.0.1', 'localhost')}/000000000000/life`);
    // The same create again is fine; different attributes are not.
    assert.equal((await sqs.send(new CreateQueueCommand({ QueueName: 'life', Attributes: { VisibilityTimeout: '45' } }))).QueueUrl, QueueUrl);
    await refused(sqs.send(new CreateQueueCommand({ QueueName: 'life', Attributes: { VisibilityTimeout: '46' } })), 'QueueNameExists', 'QueueAlreadyExists');
    await sqs.send(new CreateQueueCommand({ QueueName: 'life-2' }));
    assert.deepEqual((await sqs.send(new ListQueuesCommand({ QueueNamePrefix: 'life' }))).QueueUrls, [QueueUrl, `${b.url}/000000000000/life-2`]);
    const page = await sqs.send(new ListQueuesCommand({ QueueNamePrefix: 'life', MaxResults: 1 }));
    assert.deepEqual(page.QueueUrls, [QueueUrl]);
    assert.deepEqual((await sqs.send(new ListQueuesCommand({ QueueNamePrefix: 'life', MaxResults: 1, NextToken: page.NextToken }))).QueueUrls, [`${b.url}/000000000000/life-2`]);

    await sqs.send(new SetQueueAttributesCommand({ QueueUrl, Attributes: { ReceiveMessageWaitTimeSeconds: '3', MaximumMessageSize: '2048' } }));
    const { Attributes: a } = await sqs.send(new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['All'] }));
    assert.equal(a!.QueueArn, 'arn:aws:sqs:eu-west-1:000000000000:life');
    assert.equal(a!.VisibilityTimeout, '45');
    assert.equal(a!.DelaySeconds, '2');
    assert.equal(a!.MessageRetentionPeriod, '3600');
    assert.equal(a!.ReceiveMessageWaitTimeSeconds, '3');
    assert.equal(a!.MaximumMessageSize, '2048');
    await refused(sqs.send(new SetQueueAttributesCommand({ QueueUrl, Attributes: { Policy: '{}' } })), 'InvalidAttributeName');
    await refused(sqs.send(new SetQueueAttributesCommand({ QueueUrl, Attributes: { VisibilityTimeout: '43201' } })), 'InvalidAttributeValue');

    await sqs.send(new TagQueueCommand({ QueueUrl, Tags: { env: 'test', owner: 'me' } }));
    await sqs.send(new UntagQueueCommand({ QueueUrl, TagKeys: ['owner'] }));
    assert.deepEqual((await sqs.send(new ListQueueTagsCommand({ QueueUrl }))).Tags, { team: 'core', env: 'test' });

    // Delayed messages count as delayed; a purge empties the queue.
    await sqs.send(new SendMessageCommand({ QueueUrl, MessageBody: 'later' }));
    const counts = await sqs.send(new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesDelayed'] }));
    assert.deepEqual(counts.Attributes, { ApproximateNumberOfMessages: '0', ApproximateNumberOfMessagesDelayed: '1' });
    await sqs.send(new PurgeQueueCommand({ QueueUrl }));
    assert.equal((await sqs.send(new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['ApproximateNumberOfMessagesDelayed'] }))).Attributes!.ApproximateNumberOfMessagesDelayed, '0');

    await sqs.send(new DeleteQueueCommand({ QueueUrl }));
    await refused(sqs.send(new GetQueueUrlCommand({ QueueName: 'life' })), 'QueueDoesNotExist', 'AWS.SimpleQueueService.NonExistentQueue');
    await refused(sqs.send(new SendMessageCommand({ QueueUrl, MessageBody: 'x' })), 'QueueDoesNotExist');
  });

  it('sends and receives messages with attributes, system attributes and checked MD5s', async () => {
    const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: 'attrs' }));
    const sent = await sqs.send(new SendMessageCommand({
      QueueUrl, MessageBody: 'héllo ✓',
      MessageAttributes: { kind: { DataType: 'String', StringValue: 'greeting' }, n: { DataType: 'Number', StringValue: '42' }, raw: { DataType: 'Binary', BinaryValue: new Uint8Array([0, 1, 254]) } },
      MessageSystemAttributes: { AWSTraceHeader: { DataType: 'String', StringValue: 'Root=1-5759e988-bd862e3fe1be46a994272793' } },
    }));
    assert.match(sent.MessageId!, UUID);
    assert.equal(sent.MD5OfMessageBody, createHash('md5').update('héllo ✓').digest('hex'));
    const { Messages } = await sqs.send(new ReceiveMessageCommand({ QueueUrl, MaxNumberOfMessages: 10, MessageAttributeNames: ['All'], MessageSystemAttributeNames: ['All'] }));
    assert.equal(Messages?.length, 1);
    const m = Messages[0]!;
    assert.equal(m.MessageId, sent.MessageId);
    assert.equal(m.Body, 'héllo ✓');
    assert.equal(m.MD5OfBody, sent.MD5OfMessageBody);
    assert.equal(m.MD5OfMessageAttributes, sent.MD5OfMessageAttributes);
    assert.equal(m.MessageAttributes!.kind!.StringValue, 'greeting');
    assert.deepEqual([...m.MessageAttributes!.raw!.BinaryValue!], [0, 1, 254]);
    assert.equal(m.Attributes!.ApproximateReceiveCount, '1');
    assert.equal(m.Attributes!.AWSTraceHeader, 'Root=1-5759e988-bd862e3fe1be46a994272793');
    assert.match(m.Attributes!.SenderId!, /^SPOOL[0-9A-F]{12}$/);
    assert.ok(Number(m.Attributes!.SentTimestamp) > 1_600_000_000_000);
    // Only the attributes asked for, by name or prefix, with the MD5 of those.
    await sqs.send(new SendMessageCommand({ QueueUrl, MessageBody: 'b', MessageAttributes: { 'app.x': { DataType: 'String', StringValue: '1' }, other: { DataType: 'String', StringValue: '2' } } }));
    const picked = (await sqs.send(new ReceiveMessageCommand({ QueueUrl, MessageAttributeNames: ['app.*'] }))).Messages![0]!;
    assert.deepEqual(Object.keys(picked.MessageAttributes!), ['app.x']);
    assert.equal(picked.Attributes, undefined);
  });

  it('answers batches entry by entry, and refuses a batch as SQS does', async () => {
    const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: 'batch' }));
    const sent = await sqs.send(new SendMessageBatchCommand({
      QueueUrl, Entries: [
        { Id: 'a', MessageBody: 'one' },
        { Id: 'b', MessageBody: 'two', MessageAttributes: { bad: { DataType: 'Text', StringValue: 'x' } } },
        { Id: 'c', MessageBody: 'three', DelaySeconds: 901 },
        { Id: 'd', MessageBody: 'four' },
      ],
    }));
    assert.deepEqual(sent.Successful!.map((s) => s.Id), ['a', 'd']);
    assert.deepEqual(sent.Failed!.map((f) => [f.Id, f.Code, f.SenderFault]), [['b', 'InvalidParameterValue', true], ['c', 'InvalidParameterValue', true]]);
    await refused(sqs.send(new SendMessageBatchCommand({ QueueUrl, Entries: [] })), 'EmptyBatchRequest', 'AWS.SimpleQueueService.EmptyBatchRequest');
    await refused(sqs.send(new SendMessageBatchCommand({ QueueUrl, Entries: Array.from({ length: 11 }, (_, i) => ({ Id: `m${i}`, MessageBody: 'x' })) })), 'TooManyEntriesInBatchRequest');
    await refused(sqs.send(new SendMessageBatchCommand({ QueueUrl, Entries: [{ Id: 'x', MessageBody: '1' }, { Id: 'x', MessageBody: '2' }] })), 'BatchEntryIdsNotDistinct');
    await refused(sqs.send(new SendMessageBatchCommand({ QueueUrl, Entries: [{ Id: 'no spaces', MessageBody: '1' }] })), 'InvalidBatchEntryId');

    const { Messages } = await sqs.send(new ReceiveMessageCommand({ QueueUrl, MaxNumberOfMessages: 10, VisibilityTimeout: 600 }));
    assert.deepEqual(Messages!.map((m) => m.Body).sort(), ['four', 'one']);
    const handles = Messages!.map((m) => m.ReceiptHandle!);
    const changed = await sqs.send(new ChangeMessageVisibilityBatchCommand({ QueueUrl, Entries: [{ Id: 'v1', ReceiptHandle: handles[0], VisibilityTimeout: 900 }, { Id: 'v2', ReceiptHandle: 'garbage', VisibilityTimeout: 900 }] }));
    assert.deepEqual(changed.Successful!.map((s) => s.Id), ['v1']);
    assert.deepEqual(changed.Failed!.map((f) => [f.Id, f.Code]), [['v2', 'ReceiptHandleIsInvalid']]);
    const deleted = await sqs.send(new DeleteMessageBatchCommand({ QueueUrl, Entries: [{ Id: 'd1', ReceiptHandle: handles[0] }, { Id: 'd2', ReceiptHandle: handles[1] }, { Id: 'd3', ReceiptHandle: 'garbage' }] }));
    assert.deepEqual(deleted.Successful!.map((s) => s.Id).sort(), ['d1', 'd2']);
    assert.deepEqual(deleted.Failed!.map((f) => [f.Id, f.Code]), [['d3', 'ReceiptHandleIsInvalid']]);
    await waitFor(async () => (await sqs.send(new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['All'] }))).Attributes!.ApproximateNumberOfMessagesNotVisible === '0', 'the deletes');
  });

  it('enforces SQS limits with its error codes', async () => {
    const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: 'limits' }));
    await refused(sqs.send(new SendMessageCommand({ QueueUrl, MessageBody: 'x'.repeat(256 * 1024 + 1) })), 'InvalidParameterValue');
    await sqs.send(new SendMessageCommand({ QueueUrl, MessageBody: 'x'.repeat(256 * 1024) }));
    await refused(sqs.send(new SendMessageCommand({ QueueUrl, MessageBody: 'x', DelaySeconds: 901 })), 'InvalidParameterValue');
    await refused(sqs.send(new SendMessageCommand({ QueueUrl, MessageBody: '\u0000' })), 'InvalidMessageContents');
    await refused(sqs.send(new ReceiveMessageCommand({ QueueUrl, MaxNumberOfMessages: 11 })), 'InvalidParameterValue');
    await refused(sqs.send(new ReceiveMessageCommand({ QueueUrl, WaitTimeSeconds: 21 })), 'InvalidParameterValue');
    await refused(sqs.send(new ReceiveMessageCommand({ QueueUrl, VisibilityTimeout: 43_201 })), 'InvalidParameterValue');
    await refused(sqs.send(new CreateQueueCommand({ QueueName: 'bad.name' })), 'InvalidParameterValue');
    await refused(sqs.send(new CreateQueueCommand({ QueueName: 'plain', Attributes: { FifoQueue: 'true' } })), 'InvalidParameterValue');
  });

  it('checks signatures and applies the token\'s scopes per queue', async () => {
    await sqs.send(new CreateQueueCommand({ QueueName: 'team-a' }));
    await sqs.send(new CreateQueueCommand({ QueueName: 'other' }));
    const team = b.client(b.team);
    const { QueueUrl } = await team.send(new GetQueueUrlCommand({ QueueName: 'team-a' }));
    await team.send(new SendMessageCommand({ QueueUrl, MessageBody: 'ok' }));
    assert.equal((await team.send(new ReceiveMessageCommand({ QueueUrl }))).Messages!.length, 1);
    await refused(team.send(new SendMessageCommand({ QueueUrl: `${b.url}/000000000000/other`, MessageBody: 'no' })), 'AccessDenied');
    await refused(team.send(new CreateQueueCommand({ QueueName: 'team-b' })), 'AccessDenied');
    assert.deepEqual((await team.send(new ListQueuesCommand({}))).QueueUrls, [QueueUrl]);

    await refused(b.client({ ...b.admin, secretAccessKey: 'wrong' }).send(new ListQueuesCommand({})), 'SignatureDoesNotMatch');
    await refused(b.client({ accessKeyId: 'SPOOL000000000000', secretAccessKey: 'x' }).send(new ListQueuesCommand({})), 'InvalidClientTokenId');
    await refused(b.client(b.plain).send(new ListQueuesCommand({})), 'InvalidClientTokenId');
    const unsigned = await fetch(b.url, { method: 'POST', headers: { 'content-type': 'application/x-amz-json-1.0', 'x-amz-target': 'AmazonSQS.ListQueues' }, body: '{}' });
    assert.equal(unsigned.status, 403);
    assert.equal(unsigned.headers.get('x-amzn-query-error'), 'InvalidClientTokenId;Sender');
    assert.equal(((await unsigned.json()) as { __type: string }).__type, 'com.amazonaws.sqs#InvalidClientTokenId');
  });
});
