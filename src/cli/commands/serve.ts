import { isIP } from 'node:net';
import { buildHttpApi } from '../../server/app.ts';
import { integerOption, stringOption } from '../args.ts';
import type { Command } from '../command.ts';
import { UsageError } from '../exit-codes.ts';
import { openSpool } from '../open-spool.ts';
import { note, printJson } from '../output.ts';
import { waitForStop } from '../signals.ts';

/** Loopback addresses: the only ones served without auth. */
function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || (isIP(host) === 4 && host.startsWith('127.'));
}

/** `spool serve`: the broker: the engine's HTTP API and background duties on a store, until a signal. */
export const serve: Command = {
  name: 'serve',
  summary: 'run the broker: HTTP API and background duties, until stopped',
  usage: ['serve [--host 127.0.0.1] [--port 7600] [--insecure]'],
  help: `Opens the store (creating it if needed), serves the HTTP+JSON API (docs/protocol.md)
and runs maintenance until SIGINT or SIGTERM: expired leases are reaped, delayed and
backed-off jobs are promoted when due, and finished jobs past their retention are deleted.

Options:
  --host <addr>   address to listen on (default 127.0.0.1)
  --port <n>      port (default 7600; 0 picks a free one)
  --insecure      allow a non-loopback address; there is no authentication yet, so
                  anyone who can reach the port can add and take jobs

Output: one line with where the data lives, what an acknowledged write survives and
where the API listens. With --json: {"status":"serving","location","durability","url"},
then {"status":"stopped"}.
The first signal closes the store gracefully (exit 0); a second one exits at once (130).`,
  options: { host: { type: 'string' }, port: { type: 'string' }, insecure: { type: 'boolean' } },
  positionals: { min: 0, max: 0 },
  longRunning: true,
  async run(ctx) {
    const host = stringOption(ctx.options, 'host') ?? '127.0.0.1';
    const port = integerOption(ctx.options, 'port') ?? 7600;
    if (port < 0 || port > 65535) throw new UsageError(`--port must be between 0 and 65535 (got ${port})`);
    if (!isLoopback(host) && ctx.options.insecure !== true) {
      throw new UsageError(`refusing to listen on ${host} without authentication; use a loopback address, or --insecure if every client that can reach it may use it`);
    }
    const stop = waitForStop();
    try {
      const spool = await openSpool(ctx.store, { maintenance: true, create: true });
      const api = buildHttpApi(spool);
      try {
        await api.listen({ host, port });
      } catch (err) {
        await spool.close();
        throw new UsageError(`cannot listen on ${host}:${port}: ${(err as Error).message}`);
      }
      const { port: bound } = api.server.address() as { port: number };
      const url = `http://${host.includes(':') ? `[${host}]` : host}:${bound}`;
      const { location } = spool.store;
      const { durability } = spool.store.capabilities;
      if (ctx.json) printJson({ status: 'serving', location, durability, url });
      else {
        process.stdout.write(`spool serve: data in ${location} (durability: ${durability}); API on ${url}; maintenance on. Stop with Ctrl+C.\n`);
      }
      const signal = await stop.received;
      note(`spool serve: ${signal}, closing`);
      await api.close();
      await spool.close();
      if (ctx.json) printJson({ status: 'stopped' });
      else note('spool serve: stopped');
    } finally {
      stop.dispose();
    }
  },
};
