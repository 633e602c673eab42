import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { Authenticator, type AuthMode } from '../../server/auth/authenticator.ts';
import { BROKER_OPTION_KEYS, startBroker } from '../../server/broker.ts';
import { createLogger, HeldSink, LOG_FORMATS, LOG_LEVELS, type LogFormat } from '../../server/log-output.ts';
import { BrokerLog, engineLogOptions, type LogLevel } from '../../server/logging.ts';
import type { LimitName } from '../../core/limits.ts';
import { QUEUE_SETTING_KEYS } from '../../core/options.ts';
import { OPEN_OPTION_KEYS } from '../../engine/options.ts';
import { integerOption, stringOption } from '../args.ts';
import type { Command } from '../command.ts';
import { UsageError } from '../exit-codes.ts';
import { openSpool } from '../open-spool.ts';
import { note, printJson } from '../output.ts';
import { parseSettings } from '../settings.ts';
import { waitForStop } from '../signals.ts';

/** Loopback addresses: the only ones served without auth unless --insecure. */
function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || (isIP(host) === 4 && host.startsWith('127.'));
}

const MODES: readonly AuthMode[] = ['auto', 'required', 'off'];

type Settings = Partial<Record<LimitName, number>>;

/**
 * Sends each `--set` to what uses it: the engine (Spool.open), the broker (startBroker), or
 * both (addManyMax); tokenCacheMs goes to the Authenticator. Any other setting is refused:
 * serve would ignore it.
 */
function splitSettings(settings: Settings): { engine: Settings; broker: Settings } {
  const engine: Settings = {};
  const broker: Settings = {};
  for (const [name, value] of Object.entries(settings) as [LimitName, number][]) {
    const forEngine = (OPEN_OPTION_KEYS as readonly string[]).includes(name);
    const forBroker = (BROKER_OPTION_KEYS as readonly string[]).includes(name);
    if (forEngine) engine[name] = value;
    if (forBroker) broker[name] = value;
    if (!forEngine && !forBroker && name !== 'tokenCacheMs') {
      const where = (QUEUE_SETTING_KEYS as readonly string[]).includes(name)
        ? `it is a queue setting: set it with spool.queue(name).configure({ ${name} })`
        : 'see "Where each is set" in docs/configuration.md';
      throw new UsageError(`--set ${name} is not a setting of spool serve; ${where}`);
    }
  }
  return { engine, broker };
}

function readPem(path: string, flag: string): Buffer {
  try {
    return readFileSync(path);
  } catch (err) {
    throw new UsageError(`${flag}: cannot read ${path}: ${(err as Error).message}`);
  }
}

/** `spool serve`: the broker: HTTP API, WebSocket protocol and background duties on a store, until a signal. */
export const serve: Command = {
  name: 'serve',
  summary: 'run the broker: HTTP API, WebSocket protocol and background duties, until stopped',
  usage: ['serve [--host 127.0.0.1] [--port 7600] [--auth auto|required|off] [--tls-cert FILE --tls-key FILE] [--set name=value]… [--insecure] [--log-level info] [--log-format json|pretty] [--no-metrics] [--sqs-port <n>]'],
  help: `Opens the store (creating it if needed), serves the HTTP+JSON API and the WebSocket
protocol (docs/protocol.md) on one port, and runs maintenance until SIGINT or SIGTERM:
expired leases are reaped, delayed and backed-off jobs are promoted when due, and
finished jobs past their retention are deleted.

Options:
  --host <addr>      address to listen on (default 127.0.0.1)
  --port <n>         port (default 7600; 0 picks a free one)
  --auth <mode>      auto (default): API tokens are required once the store has had one
                     (spool token create; revoking the last keeps them required);
                     required: always; off: never (a non-loopback --host then needs --insecure)
  --tls-cert <file>  serve HTTPS and WSS with this PEM certificate chain (needs --tls-key)
  --tls-key <file>   the PEM private key of --tls-cert
  --set <name=n>     a setting of the engine (Spool.open) or the broker (startBroker), or
                     tokenCacheMs, e.g. --set connectionsMax=20000 (repeatable; see "Where
                     each is set" in docs/configuration.md); queue settings are spool queue set's
  --insecure         allow a non-loopback address without authentication: anyone who can
                     reach the port may add and take jobs
  --log-level <l>    trace, debug, info (default), warn, error or silent
  --log-format <f>   json (one object a line) or pretty; default: pretty on a terminal,
                     json otherwise
  --no-metrics       do not serve Prometheus metrics at /metrics (served by default)
  --sqs-port <n>     also serve the SQS-compatible endpoint on this port (on --host, with
                     the same TLS and tokens; off by default; 0 picks a free one). See
                     docs/sqs.md; tokens for it come from spool token create --sqs

Output: one line with where the data lives, what an acknowledged write survives and
where the API listens. With --json: {"status":"serving","location","durability","url","wsUrl","auth"}
(and "sqsUrl" with --sqs-port),
then {"status":"stopped"}. The log follows on stdout after that first line: connections,
auth failures, request errors, outages, leases reaped, leadership, shutdown; every line is
listed in docs/operations.md (Logs).
The first signal stops accepting, tells WebSocket clients to reconnect elsewhere and closes
the store gracefully (exit 0); a second one exits at once (130).`,
  options: {
    host: { type: 'string' }, port: { type: 'string' }, insecure: { type: 'boolean' }, auth: { type: 'string' },
    'tls-cert': { type: 'string' }, 'tls-key': { type: 'string' }, set: { type: 'string', multiple: true },
    'log-level': { type: 'string' }, 'log-format': { type: 'string' }, 'no-metrics': { type: 'boolean' },
    'sqs-port': { type: 'string' },
  },
  positionals: { min: 0, max: 0 },
  longRunning: true,
  async run(ctx) {
    const host = stringOption(ctx.options, 'host') ?? '127.0.0.1';
    const port = integerOption(ctx.options, 'port') ?? 7600;
    if (port < 0 || port > 65535) throw new UsageError(`--port must be between 0 and 65535 (got ${port})`);
    const sqsPort = integerOption(ctx.options, 'sqs-port');
    if (sqsPort !== undefined && (sqsPort < 0 || sqsPort > 65535)) throw new UsageError(`--sqs-port must be between 0 and 65535 (got ${sqsPort})`);
    const mode = (stringOption(ctx.options, 'auth') ?? 'auto') as AuthMode;
    if (!MODES.includes(mode)) throw new UsageError(`--auth must be one of ${MODES.join(', ')} (got ${mode})`);
    const certPath = stringOption(ctx.options, 'tls-cert');
    const keyPath = stringOption(ctx.options, 'tls-key');
    if ((certPath === undefined) !== (keyPath === undefined)) throw new UsageError('--tls-cert and --tls-key go together');
    const tls = certPath && keyPath ? { cert: readPem(certPath, '--tls-cert'), key: readPem(keyPath, '--tls-key') } : undefined;
    const settings = parseSettings(ctx.options.set);
    const { engine, broker: brokerSettings } = splitSettings(settings);
    const logLevel = (stringOption(ctx.options, 'log-level') ?? 'info') as LogLevel | 'silent';
    if (!LOG_LEVELS.includes(logLevel)) throw new UsageError(`--log-level must be one of ${LOG_LEVELS.join(', ')} (got ${logLevel})`);
    const logFormat = stringOption(ctx.options, 'log-format') as LogFormat | undefined;
    if (logFormat !== undefined && !LOG_FORMATS.includes(logFormat)) throw new UsageError(`--log-format must be one of ${LOG_FORMATS.join(', ')} (got ${logFormat})`);
    // The log is held until the serving line is out, so that line stays the first on stdout.
    const out = new HeldSink(process.stdout);
    const logger = await createLogger({ level: logLevel, sink: out, ...(logFormat ? { format: logFormat } : {}) });
    const log = new BrokerLog(logger);
    const stop = waitForStop();
    try {
      const spool = await openSpool(ctx.store, { maintenance: true, create: true }, { ...engine, ...engineLogOptions(logger) });
      const auth = new Authenticator(spool.store, { mode, ...(settings.tokenCacheMs === undefined ? {} : { cacheMs: settings.tokenCacheMs }) });
      const enforced = mode !== 'off' && (mode === 'required' || (await auth.enforced()));
      if (!isLoopback(host) && !enforced && ctx.options.insecure !== true) {
        await spool.close();
        throw new UsageError(
          `refusing to listen on ${host} without authentication: create a token first (spool token create --scope admin), ` +
            'pass --auth required, use a loopback address, or --insecure if every client that can reach it may use it',
        );
      }
      let broker;
      try {
        broker = await startBroker(spool, { ...brokerSettings, host, port, tls, auth, logger, metrics: ctx.options['no-metrics'] !== true, ...(sqsPort === undefined ? {} : { sqs: { port: sqsPort } }) });
      } catch (err) {
        await spool.close();
        throw new UsageError(`cannot serve on ${host}:${port}: ${(err as Error).message}`);
      }
      const { location } = spool.store;
      const { durability } = spool.store.capabilities;
      const authText = mode === 'auto' ? `auto (${enforced ? 'tokens required' : 'no tokens yet: open'})` : mode;
      if (ctx.json) printJson({ status: 'serving', location, durability, url: broker.url, wsUrl: broker.wsUrl, auth: authText, ...(broker.sqsUrl ? { sqsUrl: broker.sqsUrl } : {}) });
      else {
        const sqs = broker.sqsUrl ? `, SQS on ${broker.sqsUrl}` : '';
        process.stdout.write(`spool serve: data in ${location} (durability: ${durability}); API on ${broker.url}, WebSocket ${broker.wsUrl}${sqs}; auth ${authText}. Stop with Ctrl+C.\n`);
      }
      out.release();
      const signal = await stop.received;
      const stoppingAt = performance.now();
      log.write('shutdown begun', 'info', { signal });
      note(`spool serve: ${signal}, closing`);
      await broker.close();
      await spool.close();
      log.write('shutdown finished', 'info', { durationMs: Math.round(performance.now() - stoppingAt) });
      if (ctx.json) printJson({ status: 'stopped' });
      else note('spool serve: stopped');
    } finally {
      out.release(); // what was logged before a failed start
      stop.dispose();
    }
  },
};
