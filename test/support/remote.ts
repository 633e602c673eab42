import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer, connect as tcpConnect, type AddressInfo, type Server, type Socket } from 'node:net';
import type { TestContext } from 'node:test';
import type { RemoteSpool } from '../../src/client/remote-spool.ts';
import { Spool } from '../../src/engine/spool.ts';
import { connect } from '../../src/client/connect.ts';
import { startBroker, type Broker, type BrokerOptions } from '../../src/server/broker.ts';

// Helpers for tests of the remote client against in-process brokers.

export const quiet = { onError: () => {}, log: () => {} };

/** A memory Spool served by one broker, and a client connected to it; all closed when the test ends. */
export async function served(t: TestContext, brokerOptions: BrokerOptions = {}, spoolOptions: Parameters<typeof Spool.open>[0] = {}): Promise<{ spool: Spool; broker: Broker; remote: RemoteSpool }> {
  const spool = await Spool.open({ store: 'memory', ...quiet, ...spoolOptions });
  const broker = await startBroker(spool, { port: 0, ...brokerOptions });
  const remote = await connect(broker.wsUrl, quiet);
  t.after(async () => {
    await remote.close();
    await broker.close();
    await spool.close();
  });
  return { spool, broker, remote };
}

/**
 * Two brokers, each with its own engine, on one SQLite file in a new directory: what two `spool
 * serve` on a shared disk would be (a cancel through B sends no revoke to A's clients).
 * `close` closes both brokers and engines and removes the directory; call it after the clients.
 */
export async function twoBrokersOnOneFile(): Promise<{ spoolA: Spool; spoolB: Spool; a: Broker; b: Broker; close(): Promise<void> }> {
  const dir = mkdtempSync(join(tmpdir(), 'spool-two-brokers-'));
  const file = join(dir, 'spool.db');
  const spoolA = await Spool.open({ store: file, durability: 'no-fsync', pollIntervalMs: 20, ...quiet });
  const spoolB = await Spool.open({ store: file, durability: 'no-fsync', pollIntervalMs: 20, ...quiet });
  const a = await startBroker(spoolA, { port: 0 });
  const b = await startBroker(spoolB, { port: 0 });
  return {
    spoolA, spoolB, a, b,
    async close() {
      await a.close();
      await b.close();
      await spoolA.close();
      await spoolB.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Resolves when `check` returns true; fails the test after `timeoutMs`. */
export async function waitFor(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) assert.fail(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

export function gate(): { promise: Promise<void>; open: () => void } {
  let open!: () => void;
  const promise = new Promise<void>((resolve) => (open = resolve));
  return { promise, open };
}

/**
 * A TCP relay in front of a broker that counts TOO_MANY refusals in what the broker
 * sends (server frames are unmasked and uncompressed, so they can be read on the wire).
 */
export async function countingProxy(t: TestContext, targetPort: number): Promise<{ port: number; tooMany: () => number; drop: (options?: { hold?: boolean }) => void; resume: () => void }> {
  let tooMany = 0;
  let holding = false;
  const sockets = new Set<Socket>();
  const server: Server = createServer((client) => {
    if (holding) return void client.destroy(); // the network is still down: the client must keep trying
    const upstream = tcpConnect(targetPort, '127.0.0.1');
    sockets.add(client).add(upstream);
    client.pipe(upstream);
    let tail = '';
    upstream.on('data', (chunk: Buffer) => {
      const text = tail + chunk.toString('latin1');
      tooMany += text.split('"TOO_MANY"').length - 1;
      tail = text.slice(-9); // a marker split across two chunks is counted once, in the second
      client.write(chunk);
    });
    upstream.on('end', () => client.end());
    client.on('error', () => upstream.destroy());
    upstream.on('error', () => client.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(async () => {
    for (const s of sockets) s.destroy();
    await new Promise((resolve) => server.close(resolve));
  });
  return {
    port: (server.address() as AddressInfo).port,
    tooMany: () => tooMany,
    /** Cuts every connection through the proxy, as a network failure would; with `hold`, new ones are cut too until `resume`. */
    drop: (options = {}) => {
      holding = options.hold === true;
      for (const s of sockets) s.destroy();
      sockets.clear();
    },
    /** Lets connections through again after a `drop({ hold: true })`. */
    resume: () => {
      holding = false;
    },
  };
}

/**
 * A memory Spool behind a broker with `brokerOptions`, reached through a countingProxy,
 * and a client connected through the proxy; all closed when the test ends.
 */
export async function proxied(t: TestContext, brokerOptions: BrokerOptions, clientOptions: Parameters<typeof connect>[1] = {}) {
  const spool = await Spool.open({ store: 'memory', ...quiet });
  const broker = await startBroker(spool, { port: 0, ...brokerOptions });
  const proxy = await countingProxy(t, broker.port);
  const remote = await connect(`ws://127.0.0.1:${proxy.port}/v1/ws`, { ...quiet, ...clientOptions });
  t.after(async () => {
    await remote.close();
    await broker.close();
    await spool.close();
  });
  return { spool, broker, proxy, remote };
}
