/**
 * A broker started with `tls` serves HTTPS and WSS on one port, and nothing in plain
 * text. The certificate is a committed self-signed fixture (test/fixtures/tls), so the
 * tests need no openssl at run time.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import { after, before, describe, it } from 'node:test';
import { rootCertificates } from 'node:tls';
import { SpoolError } from '../core/errors.ts';
import { Spool } from '../engine/spool.ts';
import { connect } from '../client/connect.ts';
import { startBroker, type Broker } from './broker.ts';

const fixture = (name: string) => readFileSync(new URL(`../../test/fixtures/tls/${name}`, import.meta.url), 'utf8');
const cert = fixture('cert.pem');
const key = fixture('key.pem');
const quiet = { onError: () => {}, log: () => {} };

let spool: Spool;
let broker: Broker;

before(async () => {
  spool = await Spool.open({ store: 'memory', ...quiet });
  broker = await startBroker(spool, { port: 0, tls: { cert, key } });
});
after(async () => {
  await broker.close();
  await spool.close();
});

type Answer = { status: number; json: any } | { error: NodeJS.ErrnoException };

/** One request with node:http(s) (fetch has no per-request CA); a failure to connect is an answer too. */
function request(url: string, options: https.RequestOptions = {}, body?: unknown): Promise<Answer> {
  const client = url.startsWith('https:') ? https : http;
  return new Promise((resolve) => {
    const req = client.request(url, { ...options, method: body === undefined ? 'GET' : 'POST', headers: body === undefined ? {} : { 'content-type': 'application/json' }, timeout: 5_000 }, (res) => {
      let text = '';
      res.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
      res.on('end', () => resolve({ status: res.statusCode!, json: JSON.parse(text) }));
    });
    req.on('timeout', () => req.destroy(new Error('timed out')));
    req.on('error', (error) => resolve({ error }));
    req.end(body === undefined ? undefined : JSON.stringify(body));
  });
}

describe('TLS (HTTPS and WSS on one port)', () => {
  it('advertises https and wss URLs', () => {
    assert.equal(broker.url, `https://127.0.0.1:${broker.port}`);
    assert.equal(broker.wsUrl, `wss://127.0.0.1:${broker.port}/v1/ws`);
  });

  it('serves the HTTP API over HTTPS to a client trusting the certificate', async () => {
    assert.deepEqual(await request(`${broker.url}/healthz`, { ca: cert }), { status: 200, json: { status: 'ok' } });
    const added = await request(`${broker.url}/v1/queues/tls-http/jobs`, { ca: cert }, { payload: { secure: true } });
    assert.ok('status' in added && added.status === 201, JSON.stringify(added));
    const got = await request(`${broker.url}/v1/jobs/${added.json.id}`, { ca: cert });
    assert.ok('status' in got);
    assert.deepEqual([got.status, got.json.payload], [200, { secure: true }]);
  });

  it('serves the WebSocket protocol over WSS: a remote Spool adds and works a job', async () => {
    const remote = await connect(broker.wsUrl, { ...quiet, ca: cert });
    try {
      const job = await remote.queue('tls-ws').add({ n: 1 });
      const done = new Promise<unknown>((resolve) => remote.work<{ n: number }>('tls-ws', async (j) => {
        resolve(j.payload);
        return j.payload.n + 1;
      }));
      assert.deepEqual(await done, { n: 1 });
      // The ack travels after the handler returns; wait for it through the same connection.
      for (let i = 0; i < 200 && (await remote.get(job.id)).state !== 'completed'; i++) await new Promise((r) => setTimeout(r, 5));
      const final = await remote.get(job.id);
      assert.deepEqual([final.state, final.result], ['completed', 2]);
    } finally {
      await remote.close();
    }
    // The https:// URL is turned into the wss:// endpoint.
    const viaHttpsUrl = await connect(broker.url, { ...quiet, ca: Buffer.from(cert) });
    try {
      assert.equal((await viaHttpsUrl.queue('tls-ws').add('again')).state, 'ready');
    } finally {
      await viaHttpsUrl.close();
    }
  });

  it('refuses plain HTTP and plain WebSocket on the TLS port', async () => {
    const plain = await request(`http://127.0.0.1:${broker.port}/healthz`);
    assert.ok('error' in plain, `a plain-text request was answered: ${JSON.stringify(plain)}`);
    assert.equal(plain.error.code, 'ECONNRESET');
    await assert.rejects(
      connect(`ws://127.0.0.1:${broker.port}/v1/ws`, { ...quiet, connectTimeoutMs: 300, reconnectBaseMs: 20, reconnectMaxMs: 50 }),
      (err: SpoolError) => err.code === 'UNAVAILABLE' && /within 300 ms; the last attempt failed: .*socket hang up/.test(err.message),
    );
    assert.deepEqual(await request(`${broker.url}/healthz`, { ca: cert }), { status: 200, json: { status: 'ok' } }, 'still serving TLS');
  });

  it('a client that does not trust the certificate fails to connect, saying why', async () => {
    const untrusted = await request(`${broker.url}/healthz`);
    assert.ok('error' in untrusted);
    assert.equal(untrusted.error.code, 'DEPTH_ZERO_SELF_SIGNED_CERT');

    const t0 = Date.now();
    await assert.rejects(connect(broker.wsUrl, { ...quiet, connectTimeoutMs: 400, reconnectBaseMs: 20, reconnectMaxMs: 50 }), (err: SpoolError) => {
      assert.equal(err.code, 'UNAVAILABLE');
      assert.match(err.message, /DEPTH_ZERO_SELF_SIGNED_CERT/);
      assert.match(err.message, /the broker's TLS certificate is not trusted: pass its CA certificate as the `ca` option/);
      assert.equal((err.cause as NodeJS.ErrnoException).code, 'DEPTH_ZERO_SELF_SIGNED_CERT');
      return true;
    });
    assert.ok(Date.now() - t0 < 2_000);

    // Trusting some other CA (a public root) is no better than trusting none.
    await assert.rejects(connect(broker.wsUrl, { ...quiet, ca: rootCertificates[0]!, connectTimeoutMs: 300, reconnectBaseMs: 20, reconnectMaxMs: 50 }), (err: SpoolError) =>
      err.code === 'UNAVAILABLE' && /DEPTH_ZERO_SELF_SIGNED_CERT.*not trusted/.test(err.message));
    assert.equal(broker.connections, 0, 'no connection was accepted');
  });
});
