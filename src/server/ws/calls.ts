import { checkInput } from '../../api/check-input.ts';
import { WS_CALLS, type OperationContext } from '../../api/operations.ts';
import { InvalidArgumentError } from '../../core/errors.ts';
import { authorize, settleDenials } from '../auth/permissions.ts';
import type { Principal } from '../auth/scopes.ts';
import type { BrokerHost } from '../host.ts';

/** The methods a `call` frame may name: the operations table's WebSocket calls. */
export const CALL_METHODS: readonly string[] = [...WS_CALLS.keys()];

/**
 * A `call` frame: the operation of that method from the operations table, with the same
 * input check and the same permission as its HTTP route.
 */
export async function runCall(host: BrokerHost, access: Principal, method: string, params: Record<string, unknown>, signal: AbortSignal): Promise<unknown> {
  const op = WS_CALLS.get(method);
  if (!op) throw new InvalidArgumentError('method', `unknown method ${JSON.stringify(method)}; this broker has ${CALL_METHODS.join(', ')}`);
  checkInput(op, params);
  if (op.action !== 'public' && op.queue === 'input') authorize(access, op.action, params.queue as string);
  if (op.action !== 'public' && op.queue === 'none') authorize(access, op.action);
  const ctx: OperationContext = {
    access,
    signal,
    authorize: (action, queue) => authorize(access, action, queue),
    settleDenials: (ids) => settleDenials(host.store, access, ids),
  };
  return op.run(host, params, ctx);
}
