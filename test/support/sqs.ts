/** A real `spool serve --sqs-port` with tokens for the SQS tests, and the official SDK pointed at it. */
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { SQSClient } from '@aws-sdk/client-sqs';
import { SignatureV4 } from '@smithy/signature-v4';
import { Sha256 } from '../../src/server/sqs/sigv4.ts';
import { startBroker, type BrokerChild } from './broker.ts';
import { okJson, tempDir } from './cli.ts';

export interface Credentials {
  accessKeyId: string;
  secretAccessKey: string;
  /** The token itself, for the broker's HTTP routes (Authorization: Bearer); absent for made-up credentials. */
  token?: string;
}

export interface SqsBroker {
  broker: BrokerChild;
  url: string;
  store: string;
  /** A token with every permission. */
  admin: Credentials;
  /** publish and consume on queues named `team-*` only. */
  team: Credentials;
  /** A token made without --sqs. */
  plain: Credentials;
  client(credentials?: Credentials, endpoint?: string): SQSClient;
}

async function token(dir: string, store: string, scopes: string[], sqs: boolean): Promise<Credentials> {
  const args = ['token', 'create', '--store', store, ...scopes.flatMap((s) => ['--scope', s]), ...(sqs ? ['--sqs'] : [])];
  const out = await okJson<{ id: string; token: string; accessKeyId?: string; secretAccessKey?: string }>(dir, args);
  return { accessKeyId: out.accessKeyId ?? `SPOOL${out.id.toUpperCase()}`, secretAccessKey: out.secretAccessKey ?? 'not-a-secret', token: out.token };
}

/**
 * Tokens first (so auth is on), then the broker, on a SQLite file. `t` is a test's context, or
 * `{ after }` of node:test for a suite's `before`.
 */
export async function startSqsBroker(t: Pick<TestContext, 'after'>): Promise<SqsBroker> {
  const ctx = t as TestContext;
  const dir = tempDir(ctx);
  const store = join(dir, 'spool.db');
  const admin = await token(dir, store, ['admin'], true);
  const team = await token(dir, store, ['publish:team-*', 'consume:team-*'], true);
  const plain = await token(dir, store, ['admin'], false);
  // Fast lease reaping, so an expired visibility timeout brings a message back promptly.
  const broker = await startBroker(ctx, store, 0, ['--sqs-port', '0', '--set', 'maintenanceIntervalMs=50', '--log-level', 'silent']);
  const url = broker.sqsUrl!;
  const clients: SQSClient[] = [];
  t.after(() => clients.forEach((c) => c.destroy()));
  return {
    broker, url, store, admin, team, plain,
    client(credentials = admin, endpoint = url) {
      const c = new SQSClient({ endpoint, region: 'eu-west-1', credentials, maxAttempts: 1 });
      clients.push(c);
      return c;
    },
  };
}

/**
 * Cleanups for a suite: give `onEnd` to startSqsBroker in `before`; they run in the suite's `after`
 * (registered here, at the describe's top level, where node:test takes it).
 */
export function suiteCleanup(after: (fn: () => Promise<void>) => void): Pick<TestContext, 'after'> {
  const fns: (() => unknown)[] = [];
  after(async () => {
    for (const fn of fns.reverse()) await fn();
  });
  return { after: ((fn: () => unknown) => void fns.push(fn)) as never };
}

/** A raw request signed as the SDKs sign it (for the Query protocol and the bad-signature cases). */
export async function signedFetch(url: string, credentials: Credentials, init: { body: string; headers: Record<string, string>; path?: string }): Promise<Response> {
  const u = new URL(init.path ?? '/', url);
  const signer = new SignatureV4({ credentials, region: 'eu-west-1', service: 'sqs', sha256: Sha256, applyChecksum: false });
  const signed = await signer.sign({ method: 'POST', protocol: 'http:', hostname: u.host, path: u.pathname, query: {}, headers: { ...init.headers, host: u.host }, body: init.body });
  const { host: _h, ...headers } = signed.headers;
  return fetch(u, { method: 'POST', headers, body: init.body });
}

/** Resolves once `cond` holds (checked every 50 ms), failing after `timeoutMs` with `what`. */
export async function waitFor<T>(cond: () => Promise<T | null | undefined | false>, what: string, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await cond();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
