/**
 * The OpenAPI document of the broker's HTTP API, derived from the operations table:
 * every route, its parameters, body, responses (with the error codes it answers with) and
 * the links from `receive` to `ack`, `nack` and `extend`. `npm run openapi` writes it to
 * docs/openapi.json; a test fails when the committed file differs.
 */
import { ERRORS, type ErrorCode } from '../core/error-codes.ts';
import { OPERATIONS, type Operation } from './operations.ts';
import { COMPONENTS, type Schema } from './schemas.ts';

/** The version of the HTTP API described (the `/v1` of every path). */
export const API_VERSION = '1.0.0';

/** Errors any operation with a token may answer with. */
const COMMON_ERRORS: readonly ErrorCode[] = ['INVALID_ARGUMENT', 'UNAUTHORIZED', 'FORBIDDEN', 'INTERNAL', 'STORE_UNAVAILABLE'];
/** Errors of a request with a body. */
const BODY_ERRORS: readonly ErrorCode[] = ['PAYLOAD_TOO_LARGE', 'UNSUPPORTED_MEDIA_TYPE'];

const NAME_OF = new Map<unknown, string>(Object.entries(COMPONENTS).map(([name, schema]) => [schema, name]));

/** A schema with the named components replaced by references to them (found by identity). */
function withRefs(schema: unknown, top = true): unknown {
  const name = NAME_OF.get(schema);
  if (name !== undefined && !top) return { $ref: `#/components/schemas/${name}` };
  if (Array.isArray(schema)) return schema.map((s) => withRefs(s, false));
  if (schema && typeof schema === 'object') return Object.fromEntries(Object.entries(schema).map(([k, v]) => [k, withRefs(v, false)]));
  return schema;
}

const pathParams = (path: string): string[] => [...path.matchAll(/\{(\w+)\}/g)].map((m) => m[1]!);

/** The request body's schema: the input without the fields taken from the path and the query. */
function bodySchema(op: Operation): Schema | null {
  const b = op.http;
  if (b.method === 'GET' || b.method === 'DELETE' || b.body === false) return null;
  const props = (op.input.properties ?? {}) as Record<string, Schema>;
  if (b.bodyAs) return props[b.bodyAs] ?? null;
  const outside = new Set([...pathParams(b.path), ...(b.query ?? [])]);
  const { properties: _p, required, ...rest } = op.input as { properties?: unknown; required?: string[] };
  const kept = Object.fromEntries(Object.entries(props).filter(([k]) => !outside.has(k)));
  if (Object.keys(kept).length === 0) return null;
  const req = (required ?? []).filter((k) => !outside.has(k));
  return { ...rest, type: 'object', properties: kept, ...(req.length > 0 ? { required: req } : {}) };
}

function errorResponses(op: Operation, hasBody: boolean): Record<string, unknown> {
  if (op.action === 'public') return {};
  const codes = new Set<ErrorCode>([...COMMON_ERRORS, ...(hasBody ? BODY_ERRORS : []), ...((op.errors ?? []) as ErrorCode[])]);
  const byStatus = new Map<number, ErrorCode[]>();
  for (const code of codes) {
    const status = ERRORS[code].status;
    if (status !== null) byStatus.set(status, [...(byStatus.get(status) ?? []), code]);
  }
  return Object.fromEntries([...byStatus].sort(([a], [b]) => a - b).map(([status, list]) => [String(status), {
    description: list.map((c) => `${c}: ${ERRORS[c].doc}`).join('; '),
    content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
  }]));
}

function operationObject(op: Operation): Record<string, unknown> {
  const b = op.http;
  const inputProps = (op.input.properties ?? {}) as Record<string, Schema>;
  const required = new Set((op.input.required as string[] | undefined) ?? []);
  const parameters = [
    ...pathParams(b.path).map((name) => ({ name, in: 'path', required: true, schema: withRefs(inputProps[name]) })),
    ...(b.query ?? []).map((name) => ({ name, in: 'query', required: required.has(name), schema: withRefs(inputProps[name]) })),
    ...(b.headers ?? []).map((h) => ({ name: h.name, in: 'header', required: false, description: h.description, schema: withRefs(h.schema) })),
  ];
  const body = bodySchema(op);
  const ok = b.reply?.schema ?? op.output;
  const status = String(b.status ?? 200);
  const responses: Record<string, unknown> = {
    [status]: {
      description: op.summary,
      content: { 'application/json': { schema: withRefs(ok, false) } },
      ...(b.links ? { links: Object.fromEntries(Object.entries(b.links).map(([k, l]) => [k, { operationId: l.operationId, description: l.description, ...(l.requestBody ? { requestBody: l.requestBody } : {}) }])) } : {}),
    },
    ...(op.name === 'readyz' ? { 503: { description: 'Not ready: the store cannot be reached', content: { 'application/json': { schema: withRefs(op.output, false) } } } } : {}),
    ...errorResponses(op, op.http.method !== 'GET'),
  };
  return {
    operationId: op.name,
    summary: op.summary,
    ...(op.description ? { description: op.description } : {}),
    ...(op.action === 'public' ? { security: [] } : { 'x-spool-scope': op.action }),
    ...(parameters.length > 0 ? { parameters } : {}),
    ...(body ? { requestBody: { required: ((body.required as string[] | undefined) ?? []).length > 0, content: { 'application/json': { schema: withRefs(body, false) } } } } : {}),
    responses,
  };
}

/** The OpenAPI 3.1 document of the HTTP API. */
export function buildOpenApi(): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const op of OPERATIONS as readonly Operation[]) {
    (paths[op.http.path] ??= {})[op.http.method.toLowerCase()] = operationObject(op);
  }
  paths['/openapi.json'] = {
    get: { operationId: 'openapi', summary: 'This document', security: [], responses: { 200: { description: 'The OpenAPI document', content: { 'application/json': { schema: { type: 'object' } } } } } },
  };
  return {
    openapi: '3.1.0',
    info: {
      title: 'Spool broker HTTP API',
      version: API_VERSION,
      description:
        'Produce and consume jobs over HTTP+JSON. Every error is { code, message, …fields }; a client\'s mistake is a 4xx. ' +
        'Requests carry an API token (Authorization: Bearer <token>) when the broker enforces tokens; `x-spool-scope` names what each operation needs ' +
        '(read = publish or consume on the queue). Unknown fields are refused. See docs/protocol.md.',
    },
    servers: [{ url: 'http://127.0.0.1:7600' }],
    security: [{ bearerAuth: [] }],
    paths,
    components: {
      securitySchemes: { bearerAuth: { type: 'http', scheme: 'bearer' } },
      schemas: Object.fromEntries(Object.entries(COMPONENTS).map(([name, schema]) => [name, withRefs(schema, true)])),
    },
  };
}
