import { UsageError } from './exit-codes.ts';

/**
 * Where a command's operations run: a store this process opens (`--store`, `SPOOL_STORE`,
 * `./spool-data`), or a broker over HTTP (`--url`, `SPOOL_URL`, with `--token`/`SPOOL_TOKEN`).
 */
export type Target =
  | { readonly kind: 'store'; readonly store: string }
  | { readonly kind: 'broker'; readonly url: string; readonly token: string | undefined };

/** What the command line and the environment say about where to run. */
export interface TargetFlags {
  readonly store: string | undefined;
  readonly url: string | undefined;
  readonly token: string | undefined;
}

/** A scheme that names a broker, not a store: `ws://`, `wss://`, `http://`, `https://`. */
const BROKER_SCHEME = /^(wss?|https?):/i;

/**
 * Refuses a store spec that is a broker's URL (it would otherwise be taken for a file name
 * and create a store called `ws:`).
 * @throws UsageError pointing to `--url`.
 */
export function refuseBrokerUrlAsStore(spec: string, fromEnv: boolean): void {
  if (!BROKER_SCHEME.test(spec)) return;
  const http = spec.replace(/^ws/i, 'http').replace(/\/v1\/ws\/?$/, '');
  throw new UsageError(
    `${fromEnv ? `SPOOL_STORE=${spec}` : `--store ${spec}`} is a broker's URL, not a store (a data directory, a .db file, sqlite:<path>, memory or postgres://…); ` +
      `to run the command through a broker, pass --url ${http} (or set SPOOL_URL)`,
  );
}

/**
 * The broker URL in its canonical form: `http(s)://host:port` with any path prefix, without a trailing slash.
 * @throws UsageError for anything but an http(s) URL.
 */
export function checkBrokerUrl(url: string, from: string): string {
  const parsed = URL.canParse(url) ? new URL(url) : null;
  if (parsed && /^wss?:$/.test(parsed.protocol)) {
    throw new UsageError(`${from} takes the broker's HTTP URL, e.g. --url ${url.replace(/^ws/i, 'http').replace(/\/v1\/ws\/?$/, '')} (got ${url})`);
  }
  if (!parsed || (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') || parsed.hostname === '') {
    throw new UsageError(`${from} must be the broker's URL, http://host:port or https://host:port (got ${JSON.stringify(url)})`);
  }
  if (parsed.search !== '' || parsed.hash !== '') throw new UsageError(`${from} takes no query or fragment (got ${url})`);
  return (parsed.origin + parsed.pathname).replace(/\/+$/, '');
}

/**
 * Decides where a command runs, from its flags and the environment:
 * `--url` → that broker; `--store` → that store; neither → `SPOOL_URL` or `SPOOL_STORE`, and
 * `./spool-data` when both are unset. A command that cannot run remotely (`remote` false)
 * ignores `SPOOL_URL` and refuses `--url`.
 * @throws UsageError for `--url` with `--store`, a broker URL as the store, `--token` without a
 *   broker, both `SPOOL_URL` and `SPOOL_STORE` set without a flag to choose.
 * @example
 * resolveTarget({ store: undefined, url: 'http://127.0.0.1:7600', token: undefined }, 'stats', true, process.env, './spool-data');
 * // { kind: 'broker', url: 'http://127.0.0.1:7600', token: process.env.SPOOL_TOKEN }
 */
export function resolveTarget(
  flags: TargetFlags, command: string, remote: boolean, env: NodeJS.ProcessEnv, defaultStore: string,
): Target {
  if (flags.store !== undefined) refuseBrokerUrlAsStore(flags.store, false);
  if (flags.url !== undefined && flags.store !== undefined) {
    throw new UsageError('give --store (open a store here) or --url (go through a broker), not both');
  }
  if (flags.url !== undefined && !remote) {
    throw new UsageError(`spool ${command} works on a store, not through a broker: drop --url and pass --store (or set SPOOL_STORE)`);
  }
  let url: string | undefined;
  let from = '--url';
  if (flags.url !== undefined) url = flags.url;
  else if (remote && flags.store === undefined && env.SPOOL_URL) {
    if (env.SPOOL_STORE) throw new UsageError('SPOOL_URL and SPOOL_STORE are both set: pass --url or --store to choose, or unset one');
    url = env.SPOOL_URL;
    from = 'SPOOL_URL';
  }
  if (url === undefined) {
    if (flags.token !== undefined) throw new UsageError('--token goes with --url (or SPOOL_URL): a store opened here needs no token');
    if (flags.store !== undefined) return { kind: 'store', store: flags.store };
    if (env.SPOOL_STORE) refuseBrokerUrlAsStore(env.SPOOL_STORE, true);
    return { kind: 'store', store: env.SPOOL_STORE || defaultStore };
  }
  return { kind: 'broker', url: checkBrokerUrl(url, from), token: flags.token ?? (env.SPOOL_TOKEN || undefined) };
}
