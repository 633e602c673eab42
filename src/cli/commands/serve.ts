import type { Command } from '../command.ts';
import { openSpool } from '../open-spool.ts';
import { note, printJson } from '../output.ts';
import { waitForStop } from '../signals.ts';

/** `spool serve`: the engine's background duties on a store, until a signal. */
export const serve: Command = {
  name: 'serve',
  summary: 'run the engine\'s background duties until stopped',
  usage: ['serve'],
  help: `Opens the store (creating it if needed) and runs maintenance until SIGINT or SIGTERM:
expired leases are reaped, delayed and backed-off jobs are promoted when due, and
finished jobs past their retention are deleted. The HTTP API comes in a later version.

Output: one line with where the data lives and what an acknowledged write survives.
With --json: {"status":"serving","location","durability"}, then {"status":"stopped"}.
The first signal closes the store gracefully (exit 0); a second one exits at once (130).`,
  options: {},
  positionals: { min: 0, max: 0 },
  longRunning: true,
  async run(ctx) {
    const stop = waitForStop();
    try {
      const spool = await openSpool(ctx.store, { maintenance: true, create: true });
      const { location } = spool.store;
      const { durability } = spool.store.capabilities;
      if (ctx.json) printJson({ status: 'serving', location, durability });
      else {
        process.stdout.write(
          `spool serve: data in ${location} (durability: ${durability}); maintenance on; the HTTP API comes in a later version. Stop with Ctrl+C.\n`,
        );
      }
      const signal = await stop.received;
      note(`spool serve: ${signal}, closing`);
      await spool.close();
      if (ctx.json) printJson({ status: 'stopped' });
      else note('spool serve: stopped');
    } finally {
      stop.dispose();
    }
  },
};
