import { InvalidArgumentError, TokenNotFoundError } from '../../core/errors.ts';
import { LIMITS } from '../../core/limits.ts';
import { createToken, tokenIdOf, type CreatedToken } from '../../server/auth/tokens.ts';
import { sqsCredentials } from '../../server/sqs/credentials.ts';
import { stringOption, stringsOption } from '../args.ts';
import type { Command, CommandContext } from '../command.ts';
import { UsageError } from '../exit-codes.ts';
import { formatDuration, formatTime, table } from '../format.ts';
import { withSpool } from '../open-spool.ts';
import { note, printResult } from '../output.ts';

const TOKEN_ID_RE = /^[0-9a-f]{12}$/;
const CACHE = formatDuration(LIMITS.tokenCacheMs.default);
const TTL_UNITS_MS = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;
/** The longest --ttl, in days (the limit tokenTtlMs). */
const TTL_MAX_DAYS = Math.floor(LIMITS.tokenTtlMs.max / TTL_UNITS_MS.d);
/** What `revoke` and `list` say once the store has had tokens and none is left. */
const CLOSED_NOTE =
  'brokers in auto mode stay closed: every request needs a token until you create one (spool token create), ' +
  'or a broker is started with --auth off';

/**
 * Parses `--ttl`: a whole number and a unit, s, m, h or d (`90s`, `15m`, `12h`, `30d`), more
 * than zero and at most the limit tokenTtlMs.
 * @throws UsageError naming the form or the bound.
 * @example
 * parseTtl('30d'); // 2_592_000_000
 */
export function parseTtl(text: string): number {
  const match = /^\s*(\d{1,15})\s*([smhd])\s*$/.exec(text);
  if (!match) throw new UsageError(`--ttl must be a whole number and a unit, s, m, h or d, e.g. --ttl 30d or --ttl 12h (got ${JSON.stringify(text)})`);
  const ms = Number(match[1]) * TTL_UNITS_MS[match[2] as keyof typeof TTL_UNITS_MS];
  if (ms === 0) throw new UsageError('--ttl must be more than 0; leave it out for a token that never expires');
  if (ms > LIMITS.tokenTtlMs.max) throw new UsageError(`--ttl must be at most ${TTL_MAX_DAYS}d (the limit tokenTtlMs) (got ${text.trim()})`);
  return ms;
}

/** `spool token create|list|revoke`: the broker's API tokens, kept in the store. */
export const token: Command = {
  name: 'token',
  summary: 'create, list and revoke API tokens for the broker',
  usage: ['token create --scope <scope> [--scope <scope> …] [--sqs] [--name <name>] [--ttl <duration>]', 'token list', 'token revoke <id>'],
  help: `API tokens let clients use the broker (docs/protocol.md, Authentication). They live in
the store, so every broker on it knows them. Only a hash of each token is kept.

  create   makes a token and prints it, once: it cannot be shown again.
           --scope <scope>  what it may do; give it once per scope:
                              publish:<pattern>  add jobs to matching queues
                              consume:<pattern>  receive, ack, nack and extend jobs of them
                              view               read every queue, job, log and the overview; change
                                                 nothing (the dashboard, a monitor)
                              admin              everything, including cancel, retry, queue settings,
                                                 pause, resume and purge
                            A pattern is a queue name where * matches any characters:
                            orders.* matches orders.eu; * matches every queue.
           --sqs            also make it usable on the SQS endpoint (adds the scope sqs)
                            and print its AWS credentials: the access key id and the
                            secret access key (docs/sqs.md)
           --name <name>    a label for people (default: none)
           --ttl <duration> brokers refuse the token this long after it is made: a whole
                            number and s, m, h or d (90s, 15m, 12h, 30d); at most
                            ${TTL_MAX_DAYS}d (the limit tokenTtlMs). Default: it never expires.
           Output: the token, its id, name, scopes and expiry.
           With --json: {"id","name","token","scopes","createdAt","expiresAt"} (expiresAt null: never),
           with --sqs also "accessKeyId" and "secretAccessKey".
  list     Output: a table of ID, NAME, SCOPES, CREATED, EXPIRES, LAST USED (never a token or
           its hash). A broker records a token's last use at most once per token cache time
           (${CACHE} by default), so it may lag that much behind.
           With --json: an array of {"id","name","scopes","createdAt","expiresAt","lastUsedAt"}
           (null: never).
  revoke   deletes the token with this id (or the token itself, pasted whole).
           A broker that checked it recently accepts it for up to its token cache
           time (${CACHE} by default) more. Output: "revoked <id>". With --json: {"id","revoked":true}.
           Exit code 3 when no token has this id.

A broker in auto mode (the default) requires a token on every request as soon as the
store has had one, within ${CACHE}. Revoking the last token does not open it again: the
store remembers that tokens were enabled, and only a broker started with --auth off
accepts requests without a token.`,
  options: { scope: { type: 'string', multiple: true }, name: { type: 'string' }, ttl: { type: 'string' }, sqs: { type: 'boolean' } },
  positionals: { min: 1, max: 2 },
  async run(ctx) {
    const [action, arg] = ctx.args;
    if (action !== 'create' && (ctx.options.scope !== undefined || ctx.options.name !== undefined || ctx.options.ttl !== undefined || ctx.options.sqs !== undefined)) {
      throw new UsageError('--scope, --sqs, --name and --ttl go with token create');
    }
    if ((action === 'create' || action === 'list') && arg !== undefined) throw new UsageError(`token ${action}: unexpected argument ${JSON.stringify(arg)}`);
    if (action === 'create') return create(ctx);
    if (action === 'list') return list(ctx);
    if (action === 'revoke') {
      if (arg === undefined) throw new UsageError('token revoke: missing the token id; see spool token list');
      return revoke(ctx, arg);
    }
    throw new UsageError(`unknown token action ${JSON.stringify(action)}; use token create, token list or token revoke`);
  },
};

async function create(ctx: CommandContext): Promise<void> {
  const sqs = ctx.options.sqs === true;
  const scopes = [...stringsOption(ctx.options, 'scope'), ...(sqs ? ['sqs'] : [])];
  if (scopes.length === (sqs ? 1 : 0)) throw new UsageError('token create: give at least one --scope, e.g. --scope publish:orders.* (see spool token --help)');
  const ttl = stringOption(ctx.options, 'ttl');
  const ttlMs = ttl === undefined ? undefined : parseTtl(ttl);
  const { created, first } = await withSpool(ctx.store, true, async (spool) => {
    const first = !(await spool.store.tokensEnabled());
    const made = await createToken(spool.store, { name: stringOption(ctx.options, 'name'), scopes, ttlMs });
    const created: CreatedToken & { accessKeyId?: string; secretAccessKey?: string } = sqs ? { ...made, ...sqsCredentials(made.token) } : made;
    return { created, first };
  });
  printResult(ctx.json, created, () =>
    [
      `token:   ${created.token}`, `id:      ${created.id}`, `name:    ${created.name || '-'}`, `scopes:  ${created.scopes.join(', ')}`,
      `expires: ${created.expiresAt === null ? 'never' : `${formatTime(created.expiresAt)} (in ${formatDuration(created.expiresAt - created.createdAt)})`}`,
      ...(created.accessKeyId ? [`aws_access_key_id:     ${created.accessKeyId}`, `aws_secret_access_key: ${created.secretAccessKey}`] : []),
    ].join('\n'));
  note('spool token: keep the token now; Spool stores only its hash and cannot show it again.');
  if (first) {
    note(`spool token: this is the first token: brokers in auto mode require a token on every request from now on (within ${CACHE}), even after the last token is revoked.`);
  }
}

async function list(ctx: CommandContext): Promise<void> {
  const { tokens, enabled } = await withSpool(ctx.store, false, async (spool) => ({
    tokens: await spool.store.tokensList(),
    enabled: await spool.store.tokensEnabled(),
  }));
  const now = Date.now();
  printResult(ctx.json, tokens, () => {
    if (tokens.length === 0) return enabled ? `no tokens: ${CLOSED_NOTE}` : 'no tokens (brokers in auto mode accept requests without one)';
    return table(
      ['ID', 'NAME', 'SCOPES', 'CREATED', 'EXPIRES', 'LAST USED'],
      tokens.map((t) => [
        t.id, t.name || '-', t.scopes.join(' '), formatTime(t.createdAt),
        t.expiresAt === null ? 'never' : `${formatTime(t.expiresAt)}${t.expiresAt <= now ? ' (expired)' : ''}`,
        t.lastUsedAt === null ? 'never' : formatTime(t.lastUsedAt),
      ]),
    );
  });
}

async function revoke(ctx: CommandContext, arg: string): Promise<void> {
  // A leaked token can be revoked by pasting it: its id is inside.
  const id = tokenIdOf(arg) ?? arg;
  if (!TOKEN_ID_RE.test(id)) throw new InvalidArgumentError('id', `${JSON.stringify(arg)} is not a token id (12 hex characters, as spool token list shows)`);
  const { deleted, left } = await withSpool(ctx.store, false, async (spool) => ({
    deleted: await spool.store.tokensDelete([id]),
    left: await spool.store.tokensExist(),
  }));
  if (deleted === 0) throw new TokenNotFoundError(id);
  printResult(ctx.json, { id, revoked: true }, () => `revoked ${id}`);
  note(`spool token: brokers that checked this token recently accept it for up to their token cache time (${CACHE} by default).`);
  if (!left) note(`spool token: that was the last token: ${CLOSED_NOTE}.`);
}
