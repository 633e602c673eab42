/**
 * `spool serve --store <dir> --port 0 --json` as src/cli/commands/serve.ts runs it, step for
 * step (the same store opening, engine log, Authenticator, logger, serving line and graceful
 * stop), with one difference the command line does not offer: `--metrics on|off` decides
 * `startBroker`'s `metrics` option. The bench's spool-server-nometrics target runs it with
 * `off`, so that W3 on spool-server and on spool-server-nometrics, side by side in one bench,
 * measure what serving `/metrics` costs (docs/benchmarks.md, "What metrics cost"); `on` is there
 * to check that this launcher and `spool serve` measure the same.
 *
 *   node bench/broker-main.ts --store <dir> --port 0 --json --metrics off
 */
import { parseArgs } from 'node:util';
import { openSpool } from '../src/cli/open-spool.ts';
import { note, printJson } from '../src/cli/output.ts';
import { waitForStop } from '../src/cli/signals.ts';
import { Authenticator } from '../src/server/auth/authenticator.ts';
import { startBroker } from '../src/server/broker.ts';
import { createLogger, HeldSink } from '../src/server/log-output.ts';
import { BrokerLog, engineLogOptions } from '../src/server/logging.ts';

const { values } = parseArgs({
  options: { store: { type: 'string' }, port: { type: 'string' }, json: { type: 'boolean' }, metrics: { type: 'string' } },
  strict: true,
});
if (values.store === undefined || values.port !== '0' || values.json !== true || (values.metrics !== 'on' && values.metrics !== 'off')) {
  process.stderr.write('usage: node bench/broker-main.ts --store <dir> --port 0 --json --metrics on|off\n');
  process.exit(2);
}

const out = new HeldSink(process.stdout);
const logger = await createLogger({ level: 'info', sink: out });
const log = new BrokerLog(logger);
const stop = waitForStop();
const spool = await openSpool(values.store, { maintenance: true, create: true }, engineLogOptions(logger));
const auth = new Authenticator(spool.store, { mode: 'auto' });
const enforced = await auth.enforced();
const broker = await startBroker(spool, { host: '127.0.0.1', port: 0, auth, logger, metrics: values.metrics === 'on' });
const { location } = spool.store;
const { durability } = spool.store.capabilities;
printJson({ status: 'serving', location, durability, url: broker.url, wsUrl: broker.wsUrl, auth: `auto (${enforced ? 'tokens required' : 'no tokens yet: open'})` });
out.release();
const signal = await stop.received;
const stoppingAt = performance.now();
log.write('shutdown begun', 'info', { signal });
note(`spool serve: ${signal}, closing`);
await broker.close();
await spool.close();
log.write('shutdown finished', 'info', { durationMs: Math.round(performance.now() - stoppingAt) });
printJson({ status: 'stopped' });
note('spool serve: stopped');
stop.dispose();
process.exit(0);
