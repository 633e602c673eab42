/**
 * The HTTP client derived from the operations table: requests built from each binding, the
 * same results and error classes as the engine, against a broker on a real socket.
 */
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import { InternalError, InvalidArgumentError, InvalidStateError, JobNotFoundError, SpoolError, UnavailableError } from '../core/errors.ts';
import { Spool } from '../engine/spool.ts';
import { startBroker } from '../server/broker.ts';
import { callOperation, requestFor } from './http-operations.ts';

const quiet = { onError: () => {}, log: () => {} };
const JOB = '0192d3e4-5f6a-7b8c-9d0e-1f2a3b4c5d6e';

describe('requestFor builds the request from the binding', () => {
  it('puts path parameters in the path (encoded), query fields in the query, the rest in the body', () => {
    const list = requestFor('http://h:1/', undefined, 'listJobs', { queue: 'a:b', state: 'dead', limit: 5 });
    assert.deepEqual([list.method, list.url, list.body], ['GET', 'http://h:1/v1/queues/a%3Ab/jobs?state=dead&limit=5', undefined]);
    const bulk = requestFor('http://h:1/prefix', 'tok', 'bulkJobs', { queue: 'q', action: 'retry', after: JOB });
    assert.equal(bulk.url, 'http://h:1/prefix/v1/queues/q/bulk');
    assert.deepEqual(JSON.parse(bulk.body!), { action: 'retry', after: JOB });
    assert.equal(bulk.headers.authorization, 'Bearer tok');
    assert.equal(bulk.headers['content-type'], 'application/json');
  });

  it('sends the bodyAs field as the whole body, a boolean query as true/false, and no body where the route takes none', () => {
    const put = requestFor('http://h:1', undefined, 'configureQueue', { queue: 'q', config: { maxAttempts: 3 } });
    assert.deepEqual([put.method, put.url, JSON.parse(put.body!)], ['PUT', 'http://h:1/v1/queues/q', { maxAttempts: 3 }]);
    const del = requestFor('http://h:1', undefined, 'deleteQueue', { queue: 'q', force: true });
    assert.deepEqual([del.method, del.url, del.body, del.headers['content-type']], ['DELETE', 'http://h:1/v1/queues/q?force=true', undefined, undefined]);
    const cancel = requestFor('http://h:1', undefined, 'cancelJob', { jobId: JOB });
    assert.deepEqual([cancel.method, cancel.body], ['POST', undefined]);
  });

  it('refuses a field the route has no place for', () => {
    assert.throws(() => requestFor('http://h:1', undefined, 'listQueues', { queue: 'q' }), InvalidArgumentError);
  });
});

describe('callOperation against a broker', () => {
  it('gives the outputs of the operations and the error classes of the engine', async (t) => {
    const spool = await Spool.open({ store: 'memory', ...quiet });
    const broker = await startBroker(spool, { port: 0 });
    t.after(async () => {
      await broker.close();
      await spool.close();
    });
    const job = await callOperation<{ id: string; state: string }>(broker.url, undefined, 'addJobs', { queue: 'q', payload: { n: 1 } });
    assert.equal(job.state, 'ready');
    // listQueues is wrapped as { queues } on HTTP: the client gives the operation's output, an array.
    const queues = await callOperation<{ queue: string }[]>(broker.url, undefined, 'listQueues', {});
    assert.deepEqual(queues.map((s) => s.queue), ['q']);
    await assert.rejects(callOperation(broker.url, undefined, 'getJob', { jobId: JOB }), (err) => err instanceof JobNotFoundError && err.jobId === JOB);
    await callOperation(broker.url, undefined, 'cancelJob', { jobId: job.id });
    await assert.rejects(callOperation(broker.url, undefined, 'cancelJob', { jobId: job.id }), (err) => err instanceof InvalidStateError && err.currentState === 'cancelled');
    // The input is checked here first, with the broker's words.
    await assert.rejects(callOperation(broker.url, undefined, 'listJobs', { queue: 'q', limt: 3 }), /unknown field "limt"; did you mean "limit"\?/);
  });

  it('names the URL when nothing answers, and says what came back when it is not the API', async (t) => {
    const server = createServer((req, res) => {
      if (req.url?.startsWith('/v1/jobs/')) {
        res.writeHead(418, { 'content-type': 'application/json' }).end(JSON.stringify({ code: 'FROM_THE_FUTURE', message: 'a newer broker', hint: 1 }));
      } else res.writeHead(502, { 'content-type': 'text/html' }).end('<html><body>Bad gateway</body></html>');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    t.after(() => new Promise<void>((resolve) => server.close(() => resolve())));
    await assert.rejects(callOperation(url, undefined, 'listQueues', {}), (err) => err instanceof InternalError && /answered 502 Bad Gateway: <html><body>Bad gateway/.test(err.message));
    await assert.rejects(callOperation(url, undefined, 'getJob', { jobId: JOB }), (err) => err instanceof SpoolError && (err.code as string) === 'FROM_THE_FUTURE' && err.message === 'a newer broker');

    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await assert.rejects(callOperation(url, undefined, 'listQueues', {}), (err) => err instanceof UnavailableError && err.message.startsWith(`cannot reach the broker at ${url}: `));
  });
});
