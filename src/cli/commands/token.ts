import { InvalidArgumentError, TokenNotFoundError } from '../../core/errors.ts';
import { LIMITS } from '../../core/limits.ts';
import { createToken, tokenIdOf } from '../../server/auth/tokens.ts';
import { stringOption, stringsOption } from '../args.ts';
import type { Command, CommandContext } from '../command.ts';
import { UsageError } from '../exit-codes.ts';
import { formatDuration, formatTime, table } from '../format.ts';
import { withSpool } from '../open-spool.ts';
import { note, printResult } from '../output.ts';

const TOKEN_ID_RE = /^[0-9a-f]{12}$/;
const CACHE = formatDuration(LIMITS.tokenCacheMs.default);

/** `spool token create|list|revoke`: the broker's API tokens, kept in the store. */
export const token: Command = {
  name: 'token',
  summary: 'create, list and revoke API tokens for the broker',
  usage: ['token create --scope <scope> [--scope <scope> …] [--name <name>]', 'token list', 'token revoke <id>'],
  help: `API tokens let clients use the broker (docs/protocol.md, Authentication). They live in
the store, so every broker on it knows them. Only a hash of each token is kept.

  create   makes a token and prints it, once: it cannot be shown again.
           --scope <scope>  what it may do; give it once per scope:
                              publish:<pattern>  add jobs to matching queues
                              consume:<pattern>  receive, ack, nack and extend jobs of them
                              admin              everything, including cancel, retry, queue settings,
                                                 pause, resume and purge
                            A pattern is a queue name where * matches any characters:
                            orders.* matches orders.eu; * matches every queue.
           --name <name>    a label for people (default: none)
           Output: the token, its id, name and scopes.
           With --json: {"id","name","token","scopes","createdAt"}.
  list     Output: a table of ID, NAME, SCOPES, CREATED (never a token or its hash).
           With --json: an array of {"id","name","scopes","createdAt"}.
  revoke   deletes the token with this id (or the token itself, pasted whole).
           A broker that checked it recently accepts it for up to its token cache
           time (${CACHE} by default) more. Output: "revoked <id>". With --json: {"id","revoked":true}.
           Exit code 3 when no token has this id.

A broker in auto mode (the default) requires a token on every request as soon as the
store holds one, within ${CACHE}; revoking the last token opens it again.`,
  options: { scope: { type: 'string', multiple: true }, name: { type: 'string' } },
  positionals: { min: 1, max: 2 },
  async run(ctx) {
    const [action, arg] = ctx.args;
    if (action !== 'create' && (ctx.options.scope !== undefined || ctx.options.name !== undefined)) {
      throw new UsageError('--scope and --name go with token create');
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
  const scopes = stringsOption(ctx.options, 'scope');
  if (scopes.length === 0) throw new UsageError('token create: give at least one --scope, e.g. --scope publish:orders.* (see spool token --help)');
  const { created, first } = await withSpool(ctx.store, true, async (spool) => {
    const first = !(await spool.store.tokensExist());
    return { created: await createToken(spool.store, { name: stringOption(ctx.options, 'name'), scopes }), first };
  });
  printResult(ctx.json, created, () =>
    [`token:   ${created.token}`, `id:      ${created.id}`, `name:    ${created.name || '-'}`, `scopes:  ${created.scopes.join(', ')}`].join('\n'));
  note('spool token: keep the token now; Spool stores only its hash and cannot show it again.');
  if (first) note(`spool token: this is the first token: brokers in auto mode require a token on every request from now on (within ${CACHE}).`);
}

async function list(ctx: CommandContext): Promise<void> {
  const tokens = await withSpool(ctx.store, false, (spool) => spool.store.tokensList());
  printResult(ctx.json, tokens, () => {
    if (tokens.length === 0) return 'no tokens (brokers in auto mode accept requests without one)';
    return table(['ID', 'NAME', 'SCOPES', 'CREATED'], tokens.map((t) => [t.id, t.name || '-', t.scopes.join(' '), formatTime(t.createdAt)]));
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
  if (!left) note('spool token: no tokens left: brokers in auto mode accept requests without a token again.');
}
