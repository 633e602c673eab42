import { checkInput } from '../api/check-input.ts';
import { OPERATION, type OperationContext } from '../api/operations.ts';
import { withSpool } from './open-spool.ts';

/** The command line is its operator's own: every permission holds. */
const OPERATOR: OperationContext = {
  access: { can: () => true },
  signal: new AbortController().signal,
  authorize: () => {},
  settleDenials: async () => new Map(),
};

/**
 * Runs an operation of the table on the command's store, with the same input check and the
 * same result as its HTTP route and WebSocket call: a command is another adapter on the table.
 * @example
 * const job = await runOperation(ctx.store, 'cancelJob', { jobId: id });
 */
export async function runOperation<T = unknown>(store: string, name: string, input: Record<string, unknown>): Promise<T> {
  const op = OPERATION[name];
  if (!op) throw new Error(`no operation ${name} in the table`); // a bug of ours: the names are constants
  checkInput(op, input);
  return withSpool(store, false, (spool) => op.run(spool, input, OPERATOR)) as Promise<T>;
}
