/**
 * The broker's HTTP API, as the signed-in user: every call carries the token (kept in
 * sessionStorage, so it is gone when the tab closes) as `Authorization: Bearer`.
 */

const TOKEN_KEY = 'spool.token';

/** An error answer of the API: `{ code, message, …fields }` and the HTTP status. */
export class ApiError extends Error {
  /**
   * @param {number} status
   * @param {{ code?: string, message?: string, field?: string }} body
   */
  constructor(status, body) {
    super(body.message ?? `HTTP ${status}`);
    this.status = status;
    this.code = body.code ?? 'HTTP_' + status;
    /** The input field a 400 names, for forms. */
    this.field = body.field;
  }
}

/** The token the user signed in with in this tab, or null. */
export function storedToken() {
  return sessionStorage.getItem(TOKEN_KEY);
}

/** @param {string | null} token */
export function storeToken(token) {
  if (token) sessionStorage.setItem(TOKEN_KEY, token);
  else sessionStorage.removeItem(TOKEN_KEY);
}

/**
 * One call. `path` starts with `/`; `query` values that are empty are left out.
 * @param {string} method
 * @param {string} path
 * @param {{ body?: unknown, query?: Record<string, string | number | boolean | undefined | null>, token?: string | null, signal?: AbortSignal }} [options]
 * @returns {Promise<any>}
 */
export async function call(method, path, options = {}) {
  const token = options.token === undefined ? storedToken() : options.token;
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(options.query ?? {})) if (v !== undefined && v !== null && v !== '') params.set(k, String(v));
  const qs = params.size ? `?${params}` : '';
  /** @type {Record<string, string>} */
  const headers = {};
  if (token) headers.authorization = `Bearer ${token}`;
  if (options.body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(path + qs, {
    method,
    headers,
    ...(options.body === undefined ? {} : { body: JSON.stringify(options.body) }),
    ...(options.signal ? { signal: options.signal } : {}),
  });
  const text = await res.text();
  let body = null;
  try {
    body = text ? JSON.parse(text) : null;
  } catch {
    body = { message: text.slice(0, 200) };
  }
  if (!res.ok) {
    const error = new ApiError(res.status, body ?? {});
    // A token revoked or expired while the page is open: back to the sign-in form.
    if (res.status === 401) window.dispatchEvent(new CustomEvent('spool:unauthorized', { detail: error }));
    throw error;
  }
  return body;
}

/**
 * The filters `listJobs` and `bulkJobs` share: the creation range is Unix ms (both inclusive),
 * `payloadEquals` is read by the broker as JSON when it parses, else as a string.
 * @typedef {{ state?: string, name?: string, group?: string, createdAfter?: number, createdBefore?: number, payloadPath?: string, payloadEquals?: string }} JobFilter
 */

/** `encodeURIComponent` for a path segment (queue names may hold `:`). */
export const seg = (/** @type {string} */ s) => encodeURIComponent(s);

export const api = {
  /** @param {string | null} [token] */
  session: (token) => call('GET', '/dashboard/session', token === undefined ? {} : { token }),
  /** @param {boolean} [history] */
  overview: (history) => call('GET', '/v1/overview', { query: { history: history ? 'true' : undefined } }),
  /** @param {string} queue */
  queueConfig: (queue) => call('GET', `/v1/queues/${seg(queue)}`),
  /** @param {string} queue @param {Record<string, unknown>} config */
  configure: (queue, config) => call('PUT', `/v1/queues/${seg(queue)}`, { body: config }),
  /** The workers a target mean wait needs (M/M/c). @param {string} queue @param {number} targetWaitMs */
  capacity: (queue, targetWaitMs) => call('GET', `/v1/queues/${seg(queue)}/capacity`, { query: { targetWaitMs } }),
  /** @param {string} queue */
  pause: (queue) => call('POST', `/v1/queues/${seg(queue)}/pause`),
  /** @param {string} queue */
  resume: (queue) => call('POST', `/v1/queues/${seg(queue)}/resume`),
  /** @param {string} queue */
  purge: (queue) => call('POST', `/v1/queues/${seg(queue)}/purge`),
  /**
   * Deletes a queue with all its jobs and its settings. Refused (409 INVALID_STATE) while a job
   * is active, unless `force`: then the active jobs go too, and their workers' acks fail STALE_LEASE.
   * @param {string} queue @param {boolean} force
   */
  deleteQueue: (queue, force) => call('DELETE', `/v1/queues/${seg(queue)}`, { query: { force: force ? 'true' : undefined } }),
  /**
   * Adds one job (`addJobs` with a payload and its options).
   * @param {string} queue
   * @param {{ payload: unknown, name?: string, priority?: number, delayMs?: number, maxAttempts?: number }} job
   */
  addJob: (queue, job) => call('POST', `/v1/queues/${seg(queue)}/jobs`, { body: job }),
  /**
   * A page of a queue's jobs. With a payload filter one call examines a bounded number of jobs:
   * the page may be short, or empty, while `next` is not null.
   * @param {string} queue
   * @param {JobFilter & { after?: string, limit?: number }} filter
   */
  listJobs: (queue, filter) => call('GET', `/v1/queues/${seg(queue)}/jobs`, { query: filter }),
  /**
   * One bounded batch of a bulk action; pass `next` back as `after` until it is null.
   * @param {string} queue
   * @param {JobFilter & { action: 'retry' | 'cancel' | 'delete', after?: string, limit?: number }} input
   * @param {AbortSignal} [signal]
   */
  bulk: (queue, input, signal) => call('POST', `/v1/queues/${seg(queue)}/bulk`, { body: Object.fromEntries(Object.entries(input).filter(([, v]) => v !== undefined && v !== '')), ...(signal ? { signal } : {}) }),
  /** @param {string} id */
  job: (id) => call('GET', `/v1/jobs/${seg(id)}`),
  /** @param {string} id */
  jobLogs: (id) => call('GET', `/v1/jobs/${seg(id)}/logs`),
  /** @param {string} id */
  retry: (id) => call('POST', `/v1/jobs/${seg(id)}/retry`),
  /** @param {string} id */
  cancel: (id) => call('POST', `/v1/jobs/${seg(id)}/cancel`),
  /** @param {string} id */
  deleteJob: (id) => call('DELETE', `/v1/jobs/${seg(id)}`),
};
