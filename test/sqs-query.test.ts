/**
 * The SQS Query protocol (what older SDKs speak): raw form-encoded requests, signed with SigV4,
 * against a real `spool serve --sqs-port`, and their XML replies.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { signedFetch, startSqsBroker, suiteCleanup, type SqsBroker } from './support/sqs.ts';

const FORM = { 'content-type': 'application/x-www-form-urlencoded; charset=utf-8' };

/** The text of every `<name>` element, in order. */
const all = (xml: string, name: string): string[] => [...xml.matchAll(new RegExp(`<${name}>([\\s\\S]*?)</${name}>`, 'g'))].map((m) => m[1]!);
const one = (xml: string, name: string): string | undefined => all(xml, name)[0];

describe('SQS Query protocol', () => {
  let b: SqsBroker;
  const onEnd = suiteCleanup(after);
  before(async () => {
    b = await startSqsBroker(onEnd);
  });

  const call = async (params: Record<string, string>, path = '/'): Promise<{ status: number; xml: string; headers: Headers }> => {
    const res = await signedFetch(b.url, b.admin, { body: new URLSearchParams({ ...params, Version: '2012-11-05' }).toString(), headers: FORM, path });
    return { status: res.status, xml: await res.text(), headers: res.headers };
  };

  it('creates a queue, sends with attributes, receives, deletes, reads attributes', async () => {
    const created = await call({ Action: 'CreateQueue', QueueName: 'legacy', 'Attribute.1.Name': 'VisibilityTimeout', 'Attribute.1.Value': '60', 'Tag.1.Key': 'team', 'Tag.1.Value': 'old' });
    assert.equal(created.status, 200, created.xml);
    assert.match(created.xml, /^<\?xml version="1.0"\?><CreateQueueResponse xmlns="http:\/\/queue.amazonaws.com\/doc\/2012-11-05\/"><CreateQueueResult><QueueUrl>/);
    const url = one(created.xml, 'QueueUrl')!;
    assert.equal(url, `${b.url}/000000000000/legacy`);

    const body = 'a <b> & "c"';
    const sent = await call({
      Action: 'SendMessage', QueueUrl: url, MessageBody: body,
      'MessageAttribute.1.Name': 'color', 'MessageAttribute.1.Value.DataType': 'String', 'MessageAttribute.1.Value.StringValue': 'blue',
    });
    assert.equal(sent.status, 200, sent.xml);
    assert.equal(one(sent.xml, 'MD5OfMessageBody'), createHash('md5').update(body).digest('hex'));
    const id = one(sent.xml, 'MessageId')!;

    // Posted to the queue's URL, without QueueUrl, as the oldest SDKs do.
    const got = await call({ Action: 'ReceiveMessage', MaxNumberOfMessages: '10', 'AttributeName.1': 'All', 'MessageAttributeName.1': 'All' }, '/000000000000/legacy');
    assert.equal(got.status, 200, got.xml);
    assert.equal(all(got.xml, 'Message').length, 1);
    assert.equal(one(got.xml, 'MessageId'), id);
    assert.equal(one(got.xml, 'Body'), 'a &lt;b&gt; &amp; &quot;c&quot;');
    assert.equal(one(got.xml, 'MD5OfMessageAttributes'), one(sent.xml, 'MD5OfMessageAttributes'));
    assert.match(got.xml, /<Attribute><Name>ApproximateReceiveCount<\/Name><Value>1<\/Value><\/Attribute>/);
    assert.match(got.xml, /<MessageAttribute><Name>color<\/Name><Value><DataType>String<\/DataType><StringValue>blue<\/StringValue><\/Value><\/MessageAttribute>/);

    const deleted = await call({ Action: 'DeleteMessage', QueueUrl: url, ReceiptHandle: one(got.xml, 'ReceiptHandle')! });
    assert.equal(deleted.status, 200, deleted.xml);
    assert.match(deleted.xml, /<DeleteMessageResponse [^>]*><ResponseMetadata><RequestId>[0-9a-f-]{36}<\/RequestId><\/ResponseMetadata><\/DeleteMessageResponse>/);

    const attrs = await call({ Action: 'GetQueueAttributes', QueueUrl: url, 'AttributeName.1': 'VisibilityTimeout', 'AttributeName.2': 'ApproximateNumberOfMessages' });
    assert.match(attrs.xml, /<Attribute><Name>VisibilityTimeout<\/Name><Value>60<\/Value><\/Attribute>/);
    assert.match(attrs.xml, /<Attribute><Name>ApproximateNumberOfMessages<\/Name><Value>0<\/Value><\/Attribute>/);
    const tags = await call({ Action: 'ListQueueTags', QueueUrl: url });
    assert.match(tags.xml, /<Tag><Key>team<\/Key><Value>old<\/Value><\/Tag>/);
  });

  it('answers batches with result and error entries', async () => {
    const url = one((await call({ Action: 'CreateQueue', QueueName: 'legacy-batch' })).xml, 'QueueUrl')!;
    const sent = await call({
      Action: 'SendMessageBatch', QueueUrl: url,
      'SendMessageBatchRequestEntry.1.Id': 'ok', 'SendMessageBatchRequestEntry.1.MessageBody': 'one',
      'SendMessageBatchRequestEntry.2.Id': 'late', 'SendMessageBatchRequestEntry.2.MessageBody': 'two', 'SendMessageBatchRequestEntry.2.DelaySeconds': '901',
    });
    assert.equal(sent.status, 200, sent.xml);
    assert.deepEqual(all(all(sent.xml, 'SendMessageBatchResultEntry').join(''), 'Id'), ['ok']);
    const failed = all(sent.xml, 'BatchResultErrorEntry');
    assert.equal(failed.length, 1);
    assert.equal(one(failed[0]!, 'Id'), 'late');
    assert.equal(one(failed[0]!, 'Code'), 'InvalidParameterValue');
    assert.equal(one(failed[0]!, 'SenderFault'), 'true');
  });

  it('errors are XML with SQS\'s Query codes, and a bad signature is refused', async () => {
    const missing = await call({ Action: 'GetQueueUrl', QueueName: 'nowhere' });
    assert.equal(missing.status, 400);
    assert.equal(missing.headers.get('x-amzn-query-error'), 'AWS.SimpleQueueService.NonExistentQueue;Sender');
    assert.equal(one(missing.xml, 'Code'), 'AWS.SimpleQueueService.NonExistentQueue');
    assert.equal(one(missing.xml, 'Type'), 'Sender');
    assert.match(missing.xml, /^<\?xml version="1.0"\?><ErrorResponse /);
    assert.equal(one((await call({ Action: 'Frobnicate' })).xml, 'Code'), 'InvalidAction');
    assert.equal(one((await call({ Action: 'AddPermission' })).xml, 'Code'), 'AWS.SimpleQueueService.UnsupportedOperation');

    const forged = await signedFetch(b.url, { ...b.admin, secretAccessKey: 'not-it' }, { body: 'Action=ListQueues&Version=2012-11-05', headers: FORM });
    assert.equal(forged.status, 403);
    assert.equal(one(await forged.text(), 'Code'), 'SignatureDoesNotMatch');
    const unsigned = await fetch(b.url, { method: 'POST', headers: FORM, body: 'Action=ListQueues&Version=2012-11-05' });
    assert.equal(unsigned.status, 403);
    assert.equal(one(await unsigned.text(), 'Code'), 'InvalidClientTokenId');
  });
});
