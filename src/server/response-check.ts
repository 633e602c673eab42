import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import type { FastifyReply, FastifyRequest } from 'fastify';

/** Set (to anything) to make every broker check each JSON response against its OpenAPI document. The tests set it. */
export const CHECK_RESPONSES_ENV = 'SPOOL_CHECK_RESPONSES';

/**
 * With SPOOL_CHECK_RESPONSES set, an `onSend` hook that validates each JSON response of a
 * documented route against the document: a response the document does not describe is
 * replaced by a 500 naming the mismatch, so a test that meets it fails and the document
 * cannot drift from what the server sends. Off (undefined) otherwise: it costs nothing.
 */
export function responseChecker(doc: Record<string, unknown>): ((req: FastifyRequest, reply: FastifyReply, payload: unknown) => Promise<unknown>) | null {
  if (!process.env[CHECK_RESPONSES_ENV]) return null;
  const ajv = new Ajv2020({ strict: false, allErrors: false });
  ajv.addSchema({ ...doc, $id: 'spool-openapi' });
  const cache = new Map<string, ValidateFunction | null>();
  const paths = doc.paths as Record<string, Record<string, { responses: Record<string, unknown> }>>;
  const validatorFor = (route: string, method: string, status: number): ValidateFunction | null => {
    const key = `${method} ${route} ${status}`;
    if (!cache.has(key)) {
      const path = route.replace(/:(\w+)/g, '{$1}');
      const responses = paths[path]?.[method.toLowerCase()]?.responses;
      const documented = responses?.[String(status)] as { content?: Record<string, { schema?: unknown }> } | undefined;
      const pointer = `#/paths/${path.replace(/~/g, '~0').replace(/\//g, '~1')}/${method.toLowerCase()}/responses/${status}/content/application~1json/schema`;
      cache.set(key, !responses ? null : documented?.content ? ajv.compile({ $ref: `spool-openapi${pointer}` }) : (undocumented as unknown as ValidateFunction));
    }
    return cache.get(key)!;
  };
  // A status the document does not list for the route fails as such.
  const undocumented = Object.assign(() => false, { errors: null });
  return async (req, reply, payload) => {
    const route = req.routeOptions.url;
    if (route === undefined || typeof payload !== 'string') return payload;
    const validate = validatorFor(route, req.method, reply.statusCode);
    if (!validate) return payload; // not a documented route (404 of an unknown path)
    let body: unknown;
    try {
      body = JSON.parse(payload);
    } catch {
      return payload;
    }
    if (validate(body)) return payload;
    const why = validate.errors ? ajv.errorsText(validate.errors) : `status ${reply.statusCode} is not documented`;
    void reply.status(500);
    return JSON.stringify({ code: 'INTERNAL', message: `response of ${req.method} ${route} (${reply.statusCode}) does not match docs/openapi.json: ${why}` });
  };
}
