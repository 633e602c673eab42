import { checkInput } from '../api/check-input.ts';
import { OPERATION, type OperationContext, type OperationName } from '../api/operations.ts';
import { callOperation } from '../client/http-operations.ts';
import { StoreUnavailableError, UnauthorizedError, UnavailableError } from '../core/errors.ts';
import { withSpool } from './open-spool.ts';
import type { Target } from './target.ts';

export type { Target } from './target.ts';

/** The command line is its operator's own: every permission holds. */
const OPERATOR: OperationContext = {
  access: { can: () => true },
  signal: new AbortController().signal,
  authorize: () => {},
  settleDenials: async () => new Map(),
};

/**
 * Operations that may create the SQLite store they run on: adding jobs, configuring a queue,
 * publishing, binding and adding a flow define things. The others need a store that exists, so a mistyped `--store` is
 * an error (exit 5) instead of a new, empty store.
 */
const CREATES_STORE: ReadonlySet<OperationName> = new Set(['addJobs', 'configureQueue', 'setSchedule', 'publish', 'bind', 'setUnroutedQueue', 'addFlow']);

/** Runs one operation of the table where the command runs; see {@link withOperations}. */
export type Call = <T = unknown>(name: OperationName, input: Record<string, unknown>) => Promise<T>;

/**
 * Runs an operation of the table where the command runs: on the store (opened for the call,
 * with the same input check as the broker's routes and the operator's every permission), or
 * on the broker of `--url` over HTTP (with the token's permissions). Either way the result is
 * the operation's output and an error is the engine's class: a command is another adapter on
 * the table, and never branches on where it runs.
 * @throws StoreUnavailableError (exit 5) when the broker cannot be reached, naming its URL.
 * @example
 * const job = await runOperation<Job>(ctx.target, 'cancelJob', { jobId: id });
 */
export async function runOperation<T = unknown>(target: Target, name: OperationName, input: Record<string, unknown>): Promise<T> {
  checkInput(operation(name), input); // a bad argument is exit 2 before a missing store is exit 5
  return withOperations(target, { create: CREATES_STORE.has(name) }, (call) => call<T>(name, input));
}

/**
 * Runs `fn` with a {@link Call} for a command that makes many calls (a bulk action's batches,
 * the batches of an import): the store is opened once for all of them and closed after.
 * @param options.create whether a missing SQLite store may be created.
 */
export async function withOperations<T>(target: Target, options: { create: boolean }, fn: (call: Call) => Promise<T>): Promise<T> {
  if (target.kind === 'broker') {
    return fn(<R>(name: OperationName, input: Record<string, unknown>) => callBroker<R>(target, name, input));
  }
  return withSpool(target.store, options.create, (spool) =>
    fn(async <R>(name: OperationName, input: Record<string, unknown>) => {
      const op = operation(name);
      checkInput(op, input);
      return (await op.run(spool, input, OPERATOR)) as R;
    }),
  );
}

async function callBroker<T>(target: Extract<Target, { kind: 'broker' }>, name: OperationName, input: Record<string, unknown>): Promise<T> {
  try {
    return await callOperation<T>(target.url, target.token, name, input);
  } catch (err) {
    throw forCommandLine(err);
  }
}

/**
 * A broker error as the command line says it: an unreachable broker is "store unavailable"
 * (exit 5), and a refused token says which flag carries one.
 */
export function forCommandLine(err: unknown): unknown {
  if (err instanceof UnavailableError) {
    return new StoreUnavailableError(`${err.message}; check that the broker is running (spool serve) and that --url (or SPOOL_URL) is right`, { cause: err });
  }
  if (err instanceof UnauthorizedError) {
    err.message = `${err.message.replace(/: this broker needs an API token.*$/, '')}: this broker needs an API token; pass it with --token or SPOOL_TOKEN (create one with spool token create --scope …)`;
  }
  return err;
}

function operation(name: OperationName) {
  const op = OPERATION[name];
  if (!op) throw new Error(`no operation ${String(name)} in the table`); // a bug of ours: the names are constants
  return op;
}
