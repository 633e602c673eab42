/**
 * SQS (broker targets): the same produce–consume loop through the SQS endpoint with the official
 * AWS SDK and through Spool's own WebSocket client, in one run, on one broker process started
 * for it (`spool serve --sqs-port 0`, with a token, so every SQS request's signature is checked
 * and every WebSocket session authenticated). Each of `loops` loops in this process sends a batch
 * of 10, receives up to 10 (a long poll) and deletes what it received, until `messages` are
 * deleted; the figure is messages deleted per second. Bars (docs/sqs.md): the SDK loop at least
 * 5,000/s on the 2-core machine, and at least half of the WebSocket loop. The log also gives the
 * CPU time per message of the broker and of this (client) process in each loop, which a loaded
 * machine does not skew as it skews messages per second.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DeleteMessageBatchCommand, CreateQueueCommand, ReceiveMessageCommand, SendMessageBatchCommand, SQSClient } from '@aws-sdk/client-sqs';
import { Spool, type Job, type RemoteSpool } from '../../src/index.ts';
import { processCpuMicros, startBrokerProcess } from '../broker-process.ts';
import { check, count, withStallGuard, type RunContext, type RunFigures } from './run-context.ts';

export const SQS_LOOP = { messages: 60_000, loops: 16, batch: 10 } as const;
const CLI_PATH = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'src', 'cli', 'main.ts');

/** Runs `loops` copies of `step` until `total` messages are done; returns messages per second. */
async function closedLoops(total: number, loops: number, step: () => Promise<number>, what: string): Promise<number> {
  let done = 0;
  const startedAt = performance.now();
  const loop = async () => {
    while (done < total) {
      const n = await step(); // not `done += await step()`: that would add to the value read before the await
      done += n;
    }
  };
  await withStallGuard(Promise.all(Array.from({ length: loops }, loop)), () => done, what);
  return done / ((performance.now() - startedAt) / 1000);
}

async function sdkLoop(url: string, credentials: { accessKeyId: string; secretAccessKey: string }, total: number): Promise<number> {
  // The SDK's default HTTP handler (keep-alive, 50 sockets), as a program would use it.
  const sqs = new SQSClient({ endpoint: url, region: 'us-east-1', credentials, maxAttempts: 1 });
  try {
    const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: 'bench-sqs' }));
    const body = JSON.stringify({ n: 1, pad: 'x'.repeat(100) });
    let id = 0;
    return await closedLoops(total, SQS_LOOP.loops, async () => {
      await sqs.send(new SendMessageBatchCommand({ QueueUrl, Entries: Array.from({ length: SQS_LOOP.batch }, () => ({ Id: `m${id++}`, MessageBody: body })) }));
      const { Messages = [] } = await sqs.send(new ReceiveMessageCommand({ QueueUrl, MaxNumberOfMessages: SQS_LOOP.batch, WaitTimeSeconds: 1 }));
      if (Messages.length === 0) return 0;
      const out = await sqs.send(new DeleteMessageBatchCommand({ QueueUrl, Entries: Messages.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle })) }));
      check((out.Failed ?? []).length === 0, `DeleteMessageBatch failed entries: ${JSON.stringify(out.Failed)}`);
      return out.Successful?.length ?? 0;
    }, 'SQS loop (AWS SDK)');
  } finally {
    sqs.destroy();
  }
}

/** The same loop on the WebSocket client: addMany of 10, up to 10 leased through a subscription, acked. */
async function wsLoop(spool: RemoteSpool, total: number): Promise<number> {
  const queue = spool.queue('bench-ws');
  const ready: Job[] = [];
  const waiters: (() => void)[] = [];
  const sub = spool.subscribe('bench-ws', {
    deliver: (jobs) => {
      ready.push(...jobs);
      waiters.splice(0).forEach((w) => w());
    },
    revoke: () => {},
  });
  const payload = { n: 1, pad: 'x'.repeat(100) };
  try {
    return await closedLoops(total, SQS_LOOP.loops, async () => {
      await queue.addMany(Array.from({ length: SQS_LOOP.batch }, () => ({ payload })));
      sub.addCredits(SQS_LOOP.batch);
      while (ready.length === 0) await new Promise<void>((r) => waiters.push(r));
      const mine = ready.splice(0, SQS_LOOP.batch);
      await Promise.all(mine.map((j) => spool.ack({ jobId: j.id, token: j.leaseToken })));
      return mine.length;
    }, 'the same loop (WebSocket client)');
  } finally {
    sub.close();
  }
}

/** Runs `loop`, with the CPU microseconds per message it cost the broker (null without /proc) and this process. */
async function withCpu(brokerPid: number, total: number, loop: () => Promise<number>): Promise<{ rate: number; cpu: string }> {
  const broker0 = processCpuMicros(brokerPid);
  const client0 = process.cpuUsage();
  const rate = await loop();
  const broker1 = processCpuMicros(brokerPid);
  const client = process.cpuUsage(client0);
  const brokerText = broker0 === null || broker1 === null ? 'broker ?' : `broker ${Math.round((broker1 - broker0) / total)}`;
  return { rate, cpu: `${brokerText} + client ${Math.round((client.user + client.system) / total)} µs CPU/message` };
}

export async function sqsLoops(ctx: RunContext, total: number): Promise<RunFigures> {
  const dataDir = join(ctx.targetContext.dataDir, 'sqs-broker');
  mkdirSync(dataDir, { recursive: true });
  const made = JSON.parse(execFileSync(process.execPath, [CLI_PATH, 'token', 'create', '--store', dataDir, '--scope', 'admin', '--sqs', '--json'], { encoding: 'utf8' })) as
    { token: string; accessKeyId: string; secretAccessKey: string };
  const broker = await startBrokerProcess({ dataDir, sqs: true });
  try {
    check(broker.sqsUrl !== undefined, 'the broker printed no sqsUrl');
    const sdk = await withCpu(broker.pid, total, () => sdkLoop(broker.sqsUrl!, made, total));
    const spool = await Spool.connect(broker.wsUrl, { token: made.token });
    let ws: { rate: number; cpu: string };
    try {
      ws = await withCpu(broker.pid, total, () => wsLoop(spool, total));
    } finally {
      await spool.close();
    }
    ctx.log(`SQS loop: ${count(total)} messages, ${SQS_LOOP.loops} loops of SendMessageBatch(10) + ReceiveMessage(10, long poll) + DeleteMessageBatch: `
      + `AWS SDK ${count(Math.round(sdk.rate))}/s (${sdk.cpu}), WebSocket client ${count(Math.round(ws.rate))}/s (${ws.cpu}) (SDK/WebSocket ${(sdk.rate / ws.rate).toFixed(2)})`);
    return { 'SQS-sdk': sdk.rate, 'SQS-ws': ws.rate };
  } finally {
    await broker.stop();
  }
}
