// Store URLs with several hosts, as libpq writes them:
//   postgres://user:pw@10.0.0.1:5432,10.0.0.2:5432/app?target_session_attrs=read-write
// node-postgres parses one host only (through the WHATWG URL parser, which refuses a host
// list with ports), so Spool splits such a URL into one ordinary single-host URL per host and
// picks among them itself (see pg-client.ts).

/** What a connection must accept to be kept: `read-write` (and `primary`) skip standbys and read-only servers. */
export type PgSessionAttrs = 'any' | 'read-write' | 'primary';

/** A store URL taken apart: one single-host URL per host, in order, and what a connection must accept. */
export interface PgUrl {
  /** One `postgres://user:pw@host:port/db?…` per host, in the order written; node-postgres can parse each. */
  hosts: readonly { host: string; port: string; url: string }[];
  /** From `target_session_attrs`; absent, `read-write` with several hosts and `any` with one. */
  target: PgSessionAttrs;
}

const SESSION_ATTRS: readonly string[] = ['any', 'read-write', 'primary'];

/**
 * Splits a postgres:// URL into one URL per host. Returns a reason string instead when the
 * URL cannot be used: not postgres://, a host or port that does not parse, an unknown
 * `target_session_attrs`. The reason never contains the password.
 */
export function parsePgUrl(url: string): PgUrl | string {
  const m = /^(postgres(?:ql)?:\/\/)(?:([^@/?#]*)@)?([^/?#]*)(.*)$/s.exec(url);
  if (!m) return 'not a postgres:// URL';
  const [, scheme, userinfo, hostList, rest] = m as unknown as [string, string, string | undefined, string, string];
  const parts = hostList === '' ? [''] : hostList.split(',');
  const hosts: { host: string; port: string; url: string }[] = [];
  let target: string | null = null;
  for (const part of parts) {
    const hp = /^(\[[^\]]*\]|[^:]*)(?::(\d*))?$/.exec(part);
    if (!hp) return `the host ${JSON.stringify(part)} does not parse`;
    const host = hp[1]!;
    const port = hp[2] || '5432';
    const single = `${scheme}${userinfo === undefined ? '' : `${userinfo}@`}${host}${hp[2] ? `:${hp[2]}` : ''}${rest}`;
    if (!URL.canParse(single)) return parts.length > 1 ? `the host ${JSON.stringify(part)} does not parse` : 'not a URL';
    const u = new URL(single);
    target ??= u.searchParams.get('target_session_attrs');
    if (u.searchParams.has('target_session_attrs')) u.searchParams.delete('target_session_attrs');
    hosts.push({ host: u.hostname || 'localhost', port, url: u.href });
  }
  if (target !== null && !SESSION_ATTRS.includes(target)) {
    return `target_session_attrs=${target} is not supported (a store needs writes: use read-write, primary or any)`;
  }
  return { hosts, target: (target as PgSessionAttrs | null) ?? (hosts.length > 1 ? 'read-write' : 'any') };
}

/** Whether `url` is a postgres:// URL Spool can use (one host or several). */
export function canParsePgUrl(url: string): boolean {
  return /^postgres(ql)?:\/\//.test(url) && typeof parsePgUrl(url) !== 'string';
}

/**
 * The driver's own codes, never a SpoolError's (pg-errors.ts turns them into STORE_UNAVAILABLE, or
 * a StoreUnavailableError at open): set on the error a connection gives when its server accepts no
 * writes (a standby, or `default_transaction_read_only`)…
 */
export const READ_ONLY_HOST = 'READ_ONLY_HOST';
/** …and on the error of a connect where no host of a multi-host URL gave a connection that accepts writes. */
export const NO_WRITABLE_HOST = 'NO_WRITABLE_HOST';
