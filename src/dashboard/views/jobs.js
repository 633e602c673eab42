// The job browser: a queue's jobs filtered by state and name, a page at a time (the API's
// cursor), and a bulk action on everything the filter matches, batch by batch, stoppable.
import { useRef, useState } from 'preact/hooks';
import { html } from '../lib/html.js';
import { api } from '../lib/api.js';
import { useApp, useAsync, useLive } from '../lib/context.js';
import { count, shortId, time } from '../lib/format.js';
import { to } from '../lib/route.js';
import { Actions, ConfirmDialog, ErrorNote, StateBadge } from '../components/common.js';

/** @type {import('../types.js').JobState[]} */
const STATES = ['ready', 'scheduled', 'active', 'completed', 'dead', 'cancelled'];
const PAGE = 50;
/** Jobs per bulk call: small enough that progress moves and Stop acts soon. */
const BULK_BATCH = 100;

/** @param {{ query: URLSearchParams }} props */
export function JobsView({ query }) {
  const live = useLive();
  const queues = (live.overview?.queues ?? []).map((q) => q.queue);
  const queue = query.get('queue') ?? queues[0] ?? '';
  const state = query.get('state') ?? '';
  const name = query.get('name') ?? '';
  const stats = live.overview?.queues.find((q) => q.queue === queue);
  if (!live.overview && !queue) return html`<h1 tabindex="-1">Jobs</h1><p aria-busy="true">Loading…</p>`;

  /** @param {SubmitEvent} e */
  const apply = (e) => {
    e.preventDefault();
    const form = new FormData(/** @type {HTMLFormElement} */ (e.currentTarget));
    location.hash = to.jobs({ queue: String(form.get('queue') ?? ''), state: String(form.get('state') ?? ''), name: String(form.get('name') ?? '').trim() });
  };

  return html`
    <h1 tabindex="-1">Jobs</h1>
    <form class="filters" onSubmit=${apply} aria-label="Filter jobs" key=${`${queue}|${state}|${name}`}>
      <div class="field">
        <label for="filter-queue">Queue</label>
        ${queues.length
          ? html`<select id="filter-queue" name="queue" value=${queue}>${[...new Set([queue, ...queues])].filter(Boolean).map((q) => html`<option value=${q}>${q}</option>`)}</select>`
          : html`<input id="filter-queue" name="queue" value=${queue} required />`}
      </div>
      <div class="field">
        <label for="filter-state">State</label>
        <select id="filter-state" name="state" value=${state}>
          <option value="">any</option>
          ${STATES.map((s) => html`<option value=${s}>${s}${stats ? ` (${count(stats.counts[s])})` : ''}</option>`)}
        </select>
      </div>
      <div class="field">
        <label for="filter-name">Name</label>
        <input id="filter-name" name="name" value=${name} placeholder="any" autocomplete="off" />
      </div>
      <div class="form-buttons"><button type="submit" class="primary">Show</button></div>
    </form>
    ${queue ? html`<${JobList} key=${`${queue}|${state}|${name}`} queue=${queue} state=${state} name=${name} stats=${stats} />` : html`<p>No queue yet.</p>`}`;
}

/** @param {{ queue: string, state: string, name: string, stats: any }} props */
function JobList({ queue, state, name, stats }) {
  // The cursors of the pages before this one, so "Previous" can go back.
  const [cursors, setCursors] = useState(/** @type {(string | undefined)[]} */ ([]));
  const [after, setAfter] = useState(/** @type {string | undefined} */ (undefined));
  // Reload when the queue's counts move: the list stays current while you look at it.
  const changed = stats ? JSON.stringify(stats.counts) : '';
  const page = useAsync(() => api.listJobs(queue, { state: state || undefined, name: name || undefined, after, limit: PAGE }), [queue, state, name, after, changed]);
  const jobs = page.data?.jobs ?? [];
  const filterText = `queue ${queue}${state ? `, state ${state}` : ''}${name ? `, name ${name}` : ''}`;

  return html`
    <${ErrorNote} error=${page.error} />
    <${Bulk} queue=${queue} state=${state} name=${name} filterText=${filterText} estimate=${state && !name && stats ? stats.counts[state] : null} onDone=${page.reload} />
    <div class="table-wrap">
      <table aria-busy=${page.loading ? 'true' : 'false'}>
        <caption>Jobs of ${filterText}: page ${cursors.length + 1}${page.data ? `, ${jobs.length} shown` : ''}</caption>
        <thead><tr>
          <th scope="col">Job</th><th scope="col">Name</th><th scope="col">State</th><th scope="col" class="num">Attempts</th>
          <th scope="col" class="num">Priority</th><th scope="col">Created</th><th scope="col">Runs at</th><th scope="col">Last error</th>
        </tr></thead>
        <tbody>
          ${page.data && jobs.length === 0 ? html`<tr><td colspan="8">No job matches.</td></tr>` : null}
          ${jobs.map((/** @type {any} */ j) => html`
            <tr key=${j.id} data-job=${j.id}>
              <th scope="row"><a class="mono" href=${to.job(j.id)} aria-label=${`job ${j.id}`}>${shortId(j.id)}</a></th>
              <td>${j.name}</td>
              <td data-state=${j.state}><${StateBadge} state=${j.state} /></td>
              <td class="num">${j.attempt}/${j.maxAttempts}</td>
              <td class="num">${j.priority}</td>
              <td>${time(j.createdAt)}</td>
              <td>${j.state === 'scheduled' ? time(j.runAt) : '–'}</td>
              <td class="clip" title=${j.lastError ?? ''}>${j.lastError ?? ''}</td>
            </tr>`)}
        </tbody>
      </table>
    </div>
    <nav class="pager" aria-label="Pages">
      <button type="button" disabled=${cursors.length === 0} onClick=${() => {
        setAfter(cursors[cursors.length - 1]);
        setCursors(cursors.slice(0, -1));
      }}>Previous page</button>
      <button type="button" disabled=${!page.data?.next} onClick=${() => {
        setCursors([...cursors, after]);
        setAfter(page.data.next);
      }}>Next page</button>
    </nav>`;
}

/**
 * @typedef {{ action: 'retry' | 'cancel' | 'delete', running: boolean, batches: number, matched: number, changed: number, skipped: number, outcome: string | null, error: any }} BulkRun
 */

/** @param {{ queue: string, state: string, name: string, filterText: string, estimate: number | null, onDone: () => void }} props */
function Bulk({ queue, state, name, filterText, estimate, onDone }) {
  const { announce, live } = useApp();
  const [asking, setAsking] = useState(/** @type {BulkRun['action'] | null} */ (null));
  const [run, setRun] = useState(/** @type {BulkRun | null} */ (null));
  const stop = useRef(/** @type {AbortController | null} */ (null));

  /** @param {BulkRun['action']} action */
  const start = async (action) => {
    const abort = new AbortController();
    stop.current = abort;
    /** @type {BulkRun} */
    let r = { action, running: true, batches: 0, matched: 0, changed: 0, skipped: 0, outcome: null, error: null };
    setRun(r);
    /** @type {string | undefined} */
    let after;
    try {
      do {
        const batch = await api.bulk(queue, { action, state: state || undefined, name: name || undefined, after, limit: BULK_BATCH }, abort.signal);
        r = { ...r, batches: r.batches + 1, matched: r.matched + batch.matched, changed: r.changed + batch.changed, skipped: r.skipped + batch.skipped };
        setRun(r);
        after = batch.next ?? undefined;
      } while (after && !abort.signal.aborted);
      r = { ...r, running: false, outcome: abort.signal.aborted ? 'stopped' : 'done' };
    } catch (err) {
      r = abort.signal.aborted ? { ...r, running: false, outcome: 'stopped' } : { ...r, running: false, outcome: 'failed', error: err };
    }
    setRun(r);
    announce(`Bulk ${action} ${r.outcome}: ${count(r.changed)} changed, ${count(r.skipped)} skipped of ${count(r.matched)} matched`, r.outcome === 'failed' ? 'error' : 'ok');
    void live.refresh();
    onDone();
  };

  const verbs = { retry: 'Retry', cancel: 'Cancel', delete: 'Delete' };
  return html`<section class="bulk" aria-labelledby="bulk-title">
    <h2 id="bulk-title" class="visually-hidden">Bulk actions</h2>
    <${Actions} label="Bulk actions on every matching job">${(/** @type {any} */ ro) => html`
      ${/** @type {const} */ (['retry', 'cancel', 'delete']).map((a) => html`
        <button type="button" class=${a === 'retry' ? '' : 'danger'} disabled=${ro.disabled || run?.running} aria-describedby=${ro.describedBy} title=${ro.title}
          onClick=${() => setAsking(a)}>${verbs[a]} all matching…</button>`)}
      ${run?.running ? html`<button type="button" onClick=${() => stop.current?.abort()}>Stop</button>` : null}`}
    <//>
    ${run ? html`<div class="bulk-progress" role="status" data-outcome=${run.outcome ?? 'running'}>
      ${estimate ? html`<progress max=${Math.max(estimate, run.matched)} value=${run.matched} aria-label="Bulk progress"></progress>` : null}
      <span>${verbs[run.action]}: ${count(run.batches)} ${run.batches === 1 ? 'batch' : 'batches'}, ${count(run.matched)} matched, ${count(run.changed)} changed, ${count(run.skipped)} skipped${run.outcome ? ` — ${run.outcome}` : '…'}</span>
      <${ErrorNote} error=${run.error} />
    </div>` : null}
    <${ConfirmDialog}
      open=${asking !== null}
      title=${asking ? `${verbs[asking]} every matching job?` : ''}
      confirmLabel=${asking ? `${verbs[asking]} all` : ''}
      danger=${asking !== 'retry'}
      onCancel=${() => setAsking(null)}
      onConfirm=${() => {
        const a = asking;
        setAsking(null);
        if (a) void start(a);
      }}>
      <p>${asking ? verbs[asking] : ''} every job of ${filterText}${estimate !== null ? ` (about ${count(estimate)})` : ''}, ${BULK_BATCH} at a time. Jobs the action does not apply to are skipped. You can stop between batches.</p>
    <//>
  </section>`;
}
