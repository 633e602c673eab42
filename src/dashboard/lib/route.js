/**
 * Hash routes, so the page is one file and the broker needs no route per view:
 *   #/                          overview
 *   #/queues/<queue>            one queue: settings, pause, purge, dead letters
 *   #/jobs?queue=&state=&name=&group=&createdAfter=&createdBefore=&payloadPath=&payloadEquals=
 *                               the job browser (created* in Unix ms, as the API takes them;
 *                               queue=* is every queue: no queue name holds a `*`)
 *   #/job/<id>                  one job
 *   #/consumers                 connected consumers
 *   #/alerts                    alert rules, firings and resolutions
 *   #/bindings                  topic bindings and the unrouted queue
 */
import { useEffect, useState } from 'preact/hooks';

/** @typedef {{ view: string, params: Record<string, string>, query: URLSearchParams }} Route */

/** @returns {Route} */
export function parseRoute(hash = location.hash) {
  const [path = '', search = ''] = hash.replace(/^#/, '').split('?');
  const parts = path.split('/').filter(Boolean).map(decodeURIComponent);
  const query = new URLSearchParams(search);
  if (parts[0] === 'queues' && parts[1]) return { view: 'queue', params: { queue: parts[1] }, query };
  if (parts[0] === 'jobs') return { view: 'jobs', params: {}, query };
  if (parts[0] === 'job' && parts[1]) return { view: 'job', params: { id: parts[1] }, query };
  if (parts[0] === 'consumers') return { view: 'consumers', params: {}, query };
  if (parts[0] === 'alerts') return { view: 'alerts', params: {}, query };
  if (parts[0] === 'bindings') return { view: 'bindings', params: {}, query };
  if (parts.length === 0) return { view: 'overview', params: {}, query };
  return { view: 'not-found', params: {}, query };
}

/** The current route, following the hash. */
export function useRoute() {
  const [state, setState] = useState(() => ({ hash: location.hash, route: parseRoute() }));
  useEffect(() => {
    const onChange = () => setState((s) => (s.hash === location.hash ? s : { hash: location.hash, route: parseRoute() }));
    window.addEventListener('hashchange', onChange);
    // The hash may have changed between the first render and this effect (effects run after
    // paint, later still on a loaded machine); such a change fired no event we could hear.
    onChange();
    return () => window.removeEventListener('hashchange', onChange);
  }, []);
  return state.route;
}

/** The job browser's queue for "every queue the token may read" (not a queue name: those never hold `*`). */
export const ALL_QUEUES = '*';

/** Links to each view. */
export const to = {
  overview: () => '#/',
  /** @param {string} queue */
  queue: (queue) => `#/queues/${encodeURIComponent(queue)}`,
  /** @param {{ queue?: string, state?: string, name?: string, group?: string, createdAfter?: string, createdBefore?: string, payloadPath?: string, payloadEquals?: string }} [filter] */
  jobs: (filter = {}) => {
    const q = new URLSearchParams(/** @type {[string, string][]} */ (Object.entries(filter).filter(([, v]) => v)));
    return `#/jobs${q.size ? `?${q}` : ''}`;
  },
  /** @param {string} id */
  job: (id) => `#/job/${encodeURIComponent(id)}`,
  consumers: () => '#/consumers',
  alerts: () => '#/alerts',
  bindings: () => '#/bindings',
};
