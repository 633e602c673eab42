/**
 * A small HTTP client for the broker, derived from the operations table: each operation's
 * HTTP binding (method, path, query fields, body or `bodyAs`) says how to send its input,
 * and an error body comes back as the class the engine would have thrown. The `spool`
 * command runs its job and queue commands through it with `--url`.
 */
import { checkInput } from '../api/check-input.ts';
import { OPERATION, type Operation, type OperationName } from '../api/operations.ts';
import { InternalError, InvalidArgumentError, UnavailableError, type SpoolError } from '../core/errors.ts';
import { errorFromWire } from '../protocol/wire-errors.ts';
import type { WireError } from '../protocol/frames.ts';

/** How long one request may take, from sending to the whole answer, unless the caller says. */
export const HTTP_REQUEST_TIMEOUT_MS = 60_000;

/** One request, ready for `fetch`. */
export interface HttpRequest {
  readonly method: string;
  readonly url: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly body?: string;
}

export interface CallOptions {
  /** Longest wait for the whole answer. Default {@link HTTP_REQUEST_TIMEOUT_MS}. */
  readonly timeoutMs?: number;
}

/**
 * Runs one operation of the table on the broker at `baseUrl` (`http://host:port`, or with a
 * path prefix behind a proxy) and resolves with the operation's output, as its `run` returns it.
 * The input is checked against the operation's schema first, with the same words as the broker.
 * @throws the error the broker answered with, as its own class (errorFromWire);
 *   UnavailableError when no broker answered at `baseUrl` (naming it);
 *   InternalError for an answer that is not the API's (a proxy's page).
 * @example
 * const job = await callOperation('http://127.0.0.1:7600', process.env.SPOOL_TOKEN, 'getJob', { jobId });
 */
export async function callOperation<T = unknown>(
  baseUrl: string, token: string | undefined, name: OperationName, input: Record<string, unknown>, options: CallOptions = {},
): Promise<T> {
  const op = operation(name);
  checkInput(op, input);
  const req = requestFor(baseUrl, token, name, input);
  let res: Response;
  let text: string;
  try {
    res = await fetch(req.url, {
      method: req.method, headers: req.headers, ...(req.body === undefined ? {} : { body: req.body }),
      signal: AbortSignal.timeout(options.timeoutMs ?? HTTP_REQUEST_TIMEOUT_MS),
    });
    text = await res.text();
  } catch (err) {
    throw new UnavailableError(`cannot reach the broker at ${baseUrl}: ${reasonOf(err, options.timeoutMs ?? HTTP_REQUEST_TIMEOUT_MS)}`, { cause: err });
  }
  const body = parseJson(text);
  if (!res.ok) throw errorOf(res, req, body, text);
  if (body === undefined) throw new InternalError(`${req.method} ${req.url} answered ${res.status} with a body that is not JSON: ${snippet(text)}; is this the URL of a Spool broker?`);
  return unwrapReply(op, body) as T;
}

/**
 * The request that carries `input` to `op`'s route: `{name}` path segments and query fields
 * from the input, the rest as the JSON body (or the body is the one field `bodyAs` names).
 * @throws InvalidArgumentError for a field the route has no place for (a GET carries no body).
 */
export function requestFor(baseUrl: string, token: string | undefined, name: OperationName, input: Record<string, unknown>): HttpRequest {
  const op = operation(name);
  const binding = op.http;
  const rest: Record<string, unknown> = { ...input };
  const path = binding.path.replace(/\{(\w+)\}/g, (_, field: string) => {
    const value = rest[field];
    if (value === undefined) throw new InvalidArgumentError(field, `${op.name}: ${JSON.stringify(field)} is required`);
    delete rest[field];
    return encodeURIComponent(String(value));
  });
  const url = new URL(baseUrl.replace(/\/+$/, '') + path);
  for (const field of binding.query ?? []) {
    const value = rest[field];
    delete rest[field];
    if (value !== undefined) url.searchParams.set(field, String(value));
  }
  const takesBody = binding.body !== false && binding.method !== 'GET' && binding.method !== 'DELETE';
  let body: unknown;
  if (binding.bodyAs !== undefined && takesBody) {
    body = rest[binding.bodyAs];
    delete rest[binding.bodyAs];
  } else if (takesBody && Object.keys(rest).length > 0) {
    body = rest;
  }
  const leftover = body === rest ? [] : Object.keys(rest).filter((k) => rest[k] !== undefined);
  if (leftover.length > 0) {
    throw new InvalidArgumentError(leftover[0]!, `${op.name}: ${JSON.stringify(leftover[0])} cannot be sent to ${binding.method} ${binding.path}`);
  }
  const headers: Record<string, string> = { accept: 'application/json' };
  if (token) headers.authorization = `Bearer ${token}`;
  if (body === undefined) return { method: binding.method, url: url.href, headers };
  headers['content-type'] = 'application/json';
  return { method: binding.method, url: url.href, headers, body: JSON.stringify(body) };
}

function operation(name: OperationName): Operation {
  const op: Operation | undefined = OPERATION[name];
  if (!op) throw new Error(`no operation ${String(name)} in the table`); // a bug of the caller's: the names are constants
  return op;
}

/**
 * The operation's output from a route that reshapes it (`reply.map`, e.g. the queue list
 * wrapped as `{ queues }`): the field the map puts the output in, found by mapping a probe.
 */
function unwrapReply(op: Operation, body: unknown): unknown {
  const reply = op.http.reply;
  if (!reply) return body;
  const probe = {};
  const mapped = reply.map(probe);
  if (mapped === probe) return body;
  if (typeof mapped === 'object' && mapped !== null && typeof body === 'object' && body !== null) {
    const key = Object.keys(mapped).find((k) => (mapped as Record<string, unknown>)[k] === probe);
    if (key !== undefined) return (body as Record<string, unknown>)[key];
  }
  return body;
}

/** An error answer as the class the engine throws, or, when it is not the API's, an InternalError saying what came back. */
function errorOf(res: Response, req: HttpRequest, body: unknown, text: string): SpoolError {
  const wire = body as Partial<WireError> | undefined;
  if (typeof wire === 'object' && wire !== null && typeof wire.code === 'string' && typeof wire.message === 'string') {
    return errorFromWire(wire as WireError);
  }
  return new InternalError(`${req.method} ${req.url} answered ${res.status} ${res.statusText}${text ? `: ${snippet(text)}` : ''}; is this the URL of a Spool broker?`);
}

function parseJson(text: string): unknown {
  if (text === '') return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function snippet(text: string): string {
  const line = text.replace(/\s+/g, ' ').trim();
  return line.length > 200 ? `${line.slice(0, 199)}…` : line;
}

/** Why a request got no answer, in a few words: the socket error (connection refused, host not found) or the timeout. */
function reasonOf(err: unknown, timeoutMs: number): string {
  if (err instanceof Error && (err.name === 'TimeoutError' || err.name === 'AbortError')) return `no answer within ${timeoutMs} ms`;
  let cause: unknown = err instanceof Error && err.cause !== undefined ? err.cause : err;
  if (cause instanceof AggregateError && cause.errors.length > 0) cause = cause.errors[0];
  if (cause instanceof Error) return cause.message || cause.name;
  return String(cause);
}
