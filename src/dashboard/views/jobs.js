// The job browser: a queue's jobs, or every queue's, filtered by state, name, group, creation time and a
// payload field, a page at a time (the API's cursor), and a bulk action on everything the filter
// matches, batch by batch, stoppable. The filter lives in the hash route, so a filtered view can
// be linked. The API lists one queue per call: across queues the page walks them in name order
// (listJobs per queue, bounded calls per page), so the order is by queue, then by creation.
import { useRef, useState } from 'preact/hooks';
import { html } from '../lib/html.js';
import { api } from '../lib/api.js';
import { useApp, useAsync, useLive } from '../lib/context.js';
import { count, shortId, time } from '../lib/format.js';
import { ALL_QUEUES, to } from '../lib/route.js';
import { Actions, ConfirmDialog, ErrorNote, StateBadge } from '../components/common.js';

/** @type {import('../types.js').JobState[]} */
const STATES = ['ready', 'scheduled', 'active', 'completed', 'dead', 'cancelled'];
const PAGE = 50;
/** Across queues: most listJobs calls one page makes (each a queue that ran out before the page filled). */
const QUEUE_CALLS = 20;
/** Jobs per bulk call: small enough that progress moves and Stop acts soon. */
const BULK_BATCH = 100;
/** What the API takes as a payload field: 1–8 object keys joined by dots (as an HTML `pattern`, v flag). */
const PAYLOAD_PATH_PATTERN = '[A-Za-z0-9_\\-]{1,64}(\\.[A-Za-z0-9_\\-]{1,64}){0,7}';

/**
 * The filter as the route holds it: text, the creation range in Unix ms (both inclusive).
 * @typedef {{ state: string, name: string, group: string, createdAfter: string, createdBefore: string, payloadPath: string, payloadEquals: string }} Filter
 */

/** @type {(keyof Filter)[]} */
const FILTER_KEYS = ['state', 'name', 'group', 'createdAfter', 'createdBefore', 'payloadPath', 'payloadEquals'];

/** @param {URLSearchParams} query @returns {Filter} */
const filterOf = (query) => /** @type {Filter} */ (Object.fromEntries(FILTER_KEYS.map((k) => [k, query.get(k) ?? ''])));

/**
 * The filter as `listJobs` and `bulkJobs` take it (empty fields left out). A creation time
 * that is not a number goes as it is, so the broker's answer says what is wrong with it.
 * @param {Filter} f
 * @returns {import('../lib/api.js').JobFilter}
 */
const apiFilter = (f) => ({
  state: f.state || undefined,
  name: f.name || undefined,
  group: f.group || undefined,
  createdAfter: f.createdAfter ? Number(f.createdAfter) : undefined,
  createdBefore: f.createdBefore ? Number(f.createdBefore) : undefined,
  payloadPath: f.payloadPath || undefined,
  payloadEquals: f.payloadPath || f.payloadEquals ? f.payloadEquals : undefined,
});

/** The filter in words, for the table's caption and the bulk confirmation. @param {string} queue @param {Filter} f */
function describe(queue, f) {
  const at = (/** @type {string} */ ms) => (/^\d+$/.test(ms) ? time(Number(ms)) : ms);
  return `${queue === ALL_QUEUES ? 'all queues' : `queue ${queue}`}${f.state ? `, state ${f.state}` : ''}${f.name ? `, name ${f.name}` : ''}${f.group ? `, group ${f.group}` : ''}`
    + `${f.createdAfter ? `, created from ${at(f.createdAfter)}` : ''}${f.createdBefore ? `, created to ${at(f.createdBefore)}` : ''}`
    + `${f.payloadPath ? `, payload ${f.payloadPath} = ${f.payloadEquals}` : ''}`;
}

const pad = (/** @type {number} */ n) => String(n).padStart(2, '0');

/** Unix ms (route text) as a `datetime-local` value in local time, to the minute; '' if none. @param {string} ms */
function localInput(ms) {
  if (!/^\d+$/.test(ms)) return '';
  const d = new Date(Number(ms));
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

/**
 * A `datetime-local` value (local time) as Unix ms for the route: the start of its minute, or
 * with `endOfMinute` its last millisecond (the API's bounds are inclusive); '' if none.
 * @param {FormDataEntryValue | null} value
 * @param {boolean} endOfMinute
 */
function msOfInput(value, endOfMinute) {
  // A date and time with no offset is local time (ECMAScript Date.parse).
  const ms = value ? new Date(String(value)).getTime() : NaN;
  return Number.isFinite(ms) ? String(Math.floor(ms / 60_000) * 60_000 + (endOfMinute ? 59_999 : 0)) : '';
}

/**
 * Where a page starts: a queue and the cursor in it (none: its start).
 * @typedef {{ queue: string, after?: string }} Position
 */

/**
 * One page of jobs from `queues` (in that order) from `from`: a queue that runs out before the
 * page is full hands over to the next, up to QUEUE_CALLS calls; a call that stops inside a queue
 * (the page is full, or a payload search's bounded scan stopped) ends the page. With one queue
 * this is one listJobs call, as the API pages. Across queues (`everywhere`), a queue deleted
 * meanwhile counts as empty.
 * @param {string[]} queues
 * @param {import('../lib/api.js').JobFilter} filter
 * @param {Position | undefined} from
 * @param {boolean} everywhere
 * @returns {Promise<{ jobs: any[], next: Position | null }>}
 */
async function crossPage(queues, filter, from, everywhere) {
  /** @type {any[]} */
  const jobs = [];
  // Queues are compared by name, so a cursor stays good when the list of queues changes.
  let i = from ? queues.findIndex((q) => q >= from.queue) : 0;
  let after = from && queues[i] === from.queue ? from.after : undefined;
  if (i < 0) return { jobs, next: null };
  for (let calls = 0; calls < QUEUE_CALLS && i < queues.length && jobs.length < PAGE; calls++) {
    const queue = /** @type {string} */ (queues[i]);
    /** @type {{ jobs: any[], next: string | null }} */
    let page;
    try {
      page = await api.listJobs(queue, { ...filter, after, limit: PAGE - jobs.length });
    } catch (err) {
      if (!everywhere || /** @type {any} */ (err).code !== 'QUEUE_NOT_FOUND') throw err;
      page = { jobs: [], next: null };
    }
    jobs.push(...page.jobs);
    if (page.next !== null) return { jobs, next: { queue, after: page.next } };
    i++;
    after = undefined;
  }
  return { jobs, next: i < queues.length ? { queue: /** @type {string} */ (queues[i]) } : null };
}

/** @param {{ query: URLSearchParams }} props */
export function JobsView({ query }) {
  const live = useLive();
  const all = live.overview?.queues ?? [];
  const queues = all.map((q) => q.queue);
  const queue = query.get('queue') ?? queues[0] ?? '';
  const filter = filterOf(query);
  const key = [queue, ...FILTER_KEYS.map((k) => filter[k])].join('|');
  const everywhere = queue === ALL_QUEUES;
  // Every queue: the counts summed; the queues walked are those with a job in the state asked for.
  const stats = everywhere
    ? (live.overview ? { counts: Object.fromEntries(STATES.map((s) => [s, all.reduce((n, q) => n + q.counts[s], 0)])) } : undefined)
    : live.overview?.queues.find((q) => q.queue === queue);
  const targets = everywhere
    ? all.filter((q) => (filter.state ? q.counts[/** @type {import('../types.js').JobState} */ (filter.state)] ?? 0 : STATES.reduce((n, s) => n + q.counts[s], 0)) > 0)
      .map((q) => q.queue).sort()
    : [queue];
  if (!live.overview && !queue) return html`<h1 tabindex="-1">Jobs</h1><p aria-busy="true">Loading…</p>`;

  /** @param {SubmitEvent} e */
  const apply = (e) => {
    e.preventDefault();
    const formEl = /** @type {HTMLFormElement} */ (e.currentTarget);
    const form = new FormData(formEl);
    const text = (/** @type {string} */ k) => String(form.get(k) ?? '').trim();
    const next = {
      queue: text('queue'), state: text('state'), name: text('name'), group: text('group'),
      createdAfter: msOfInput(form.get('createdAfter'), false), createdBefore: msOfInput(form.get('createdBefore'), true),
      payloadPath: text('payloadPath'), payloadEquals: text('payloadEquals'),
    };
    // What the broker would refuse, said at the field before asking it.
    const el = (/** @type {string} */ name) => /** @type {HTMLInputElement} */ (formEl.elements.namedItem(name));
    const problem = next.createdAfter && next.createdBefore && Number(next.createdBefore) < Number(next.createdAfter)
      ? ['createdBefore', '"Created to" may not be before "Created from".']
      : next.payloadPath && !next.payloadEquals ? ['payloadEquals', 'Give the value the payload field must equal.']
        : !next.payloadPath && next.payloadEquals ? ['payloadPath', 'Give the payload field to compare, e.g. user.id.']
          : null;
    if (problem) {
      const input = el(problem[0]);
      input.setCustomValidity(problem[1]);
      input.reportValidity();
      return;
    }
    location.hash = to.jobs(next);
  };
  /** A message set by `apply` lasts until the field is edited. @param {Event} e */
  const clearProblem = (e) => {
    const t = /** @type {HTMLInputElement} */ (e.target);
    if (t.setCustomValidity) t.setCustomValidity('');
  };

  // The fields are not controlled (defaultValue, selected): the live overview re-renders this view
  // every second, and a controlled field would be reset to the route's value under the user's hands.
  // The form is mounted afresh (key) when the route changes.
  return html`
    <h1 tabindex="-1">Jobs</h1>
    <form class="filters" onSubmit=${apply} onInput=${clearProblem} aria-label="Filter jobs" key=${key}>
      <div class="field">
        <label for="filter-queue">Queue</label>
        ${queues.length
          ? html`<select id="filter-queue" name="queue">
              <option value=${ALL_QUEUES} selected=${everywhere}>all queues</option>
              ${[...new Set([queue, ...queues])].filter((q) => q && q !== ALL_QUEUES).map((q) => html`<option value=${q} selected=${q === queue}>${q}</option>`)}
            </select>`
          : html`<input id="filter-queue" name="queue" defaultValue=${queue} required />`}
      </div>
      <div class="field">
        <label for="filter-state">State</label>
        <select id="filter-state" name="state">
          <option value="" selected=${!filter.state}>any</option>
          ${STATES.map((s) => html`<option value=${s} selected=${s === filter.state}>${s}${stats ? ` (${count(stats.counts[s])})` : ''}</option>`)}
        </select>
      </div>
      <div class="field">
        <label for="filter-name">Name</label>
        <input id="filter-name" name="name" defaultValue=${filter.name} placeholder="any" autocomplete="off" />
      </div>
      <div class="field">
        <label for="filter-group">Group</label>
        <input id="filter-group" name="group" defaultValue=${filter.group} placeholder="any" autocomplete="off" spellcheck="false" maxlength="128" aria-describedby="hint-group" />
        <small id="hint-group">the job's group (tenant, customer), exactly</small>
      </div>
      <div class="break" aria-hidden="true"></div>
      <div class="field">
        <label for="filter-from">Created from</label>
        <input id="filter-from" name="createdAfter" type="datetime-local" defaultValue=${localInput(filter.createdAfter)} aria-describedby="hint-from" />
        <small id="hint-from">local time, from the start of that minute</small>
      </div>
      <div class="field">
        <label for="filter-to">Created to</label>
        <input id="filter-to" name="createdBefore" type="datetime-local" defaultValue=${localInput(filter.createdBefore)} aria-describedby="hint-to" />
        <small id="hint-to">local time, inclusive: to the end of that minute</small>
      </div>
      <div class="field">
        <label for="filter-path">Payload field</label>
        <input id="filter-path" name="payloadPath" defaultValue=${filter.payloadPath} placeholder="e.g. user.id" autocomplete="off" spellcheck="false"
          pattern=${PAYLOAD_PATH_PATTERN} title="1–8 keys of letters, digits, _ or -, joined by dots" aria-describedby="hint-path" />
        <small id="hint-path">keys joined by dots; searched, not indexed</small>
      </div>
      <div class="field">
        <label for="filter-equals">Equals</label>
        <input id="filter-equals" name="payloadEquals" defaultValue=${filter.payloadEquals} placeholder="e.g. 12345" autocomplete="off" spellcheck="false" aria-describedby="hint-equals" />
        <small id="hint-equals">JSON if it parses (12345, true, "12345"), else text</small>
      </div>
      <div class="form-buttons"><button type="submit" class="primary">Show</button></div>
    </form>
    ${queue ? html`<${JobList} key=${key} queue=${queue} queues=${targets} filter=${filter} stats=${stats} />` : html`<p>No queue yet.</p>`}`;
}

/** @param {{ queue: string, queues: string[], filter: Filter, stats: any }} props */
function JobList({ queue, queues, filter, stats }) {
  const everywhere = queue === ALL_QUEUES;
  // Where the pages before this one started, so "Previous" can go back.
  const [cursors, setCursors] = useState(/** @type {(Position | undefined)[]} */ ([]));
  const [after, setAfter] = useState(/** @type {Position | undefined} */ (undefined));
  // Reload when the counts move: the list stays current while you look at it.
  const changed = stats ? JSON.stringify(stats.counts) : '';
  const page = useAsync(() => crossPage(queues, apiFilter(filter), after, everywhere), [queues.join('\n'), ...FILTER_KEYS.map((k) => filter[k]), JSON.stringify(after ?? null), changed]);
  const jobs = page.data?.jobs ?? [];
  const next = page.data?.next ?? null;
  const filterText = describe(queue, filter);
  // The Group column only when a job of the page has one.
  const grouped = jobs.some((/** @type {any} */ j) => j.group !== null && j.group !== undefined);
  const columns = 8 + (everywhere ? 1 : 0) + (grouped ? 1 : 0);
  // Only the state's count estimates a bulk run, and only with no other filter.
  const narrowed = filter.name || filter.group || filter.createdAfter || filter.createdBefore || filter.payloadPath;
  const onward = () => {
    setCursors([...cursors, after]);
    setAfter(next ?? undefined);
  };

  return html`
    <${ErrorNote} error=${page.error} />
    <${Bulk} queues=${queues} filter=${filter} filterText=${filterText} estimate=${filter.state && !narrowed && stats ? stats.counts[filter.state] : null} onDone=${page.reload} />
    <div class="table-wrap">
      <table aria-busy=${page.loading ? 'true' : 'false'}>
        <caption>Jobs of ${filterText}: page ${cursors.length + 1}${page.data ? `, ${jobs.length} shown` : ''}${everywhere ? ` (${count(queues.length)} ${queues.length === 1 ? 'queue' : 'queues'} with ${filter.state ? `${filter.state} ` : ''}jobs, by queue, then oldest first)` : ''}</caption>
        <thead><tr>
          <th scope="col">Job</th>${everywhere ? html`<th scope="col">Queue</th>` : null}<th scope="col">Name</th>${grouped ? html`<th scope="col">Group</th>` : null}<th scope="col">State</th><th scope="col" class="num">Attempts</th>
          <th scope="col" class="num">Priority</th><th scope="col">Created</th><th scope="col">Runs at</th><th scope="col">Last error</th>
        </tr></thead>
        <tbody>
          ${page.data && jobs.length === 0 && next === null ? html`<tr><td colspan=${columns}>No job matches.</td></tr>` : null}
          ${page.data && jobs.length === 0 && next !== null ? html`<tr data-searching><td colspan=${columns}>
            No matches among the jobs examined so far — <button type="button" class="link" onClick=${onward}>Continue</button> searching from where this scan stopped.
          </td></tr>` : null}
          ${jobs.map((/** @type {any} */ j) => html`
            <tr key=${j.id} data-job=${j.id}>
              <th scope="row"><a class="mono" href=${to.job(j.id)} aria-label=${`job ${j.id}`}>${shortId(j.id)}</a></th>
              ${everywhere ? html`<td data-queue=${j.queue}><a href=${to.queue(j.queue)}>${j.queue}</a></td>` : null}
              <td>${j.name}</td>
              ${grouped ? html`<td data-group=${j.group ?? ''}>${j.group ?? '–'}</td>` : null}
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
      <button type="button" disabled=${!next} onClick=${onward}>Next page</button>
    </nav>
    ${filter.payloadPath && next !== null && jobs.length > 0 && jobs.length < PAGE
      ? html`<p class="note">A payload search examines a bounded number of jobs per page: more may match on the next page.</p>` : null}`;
}

/**
 * @typedef {{ action: 'retry' | 'cancel' | 'delete', running: boolean, batches: number, matched: number, changed: number, skipped: number, outcome: string | null, error: any }} BulkRun
 */

/**
 * The bulk action on `queues` one after the other (bulkJobs takes one queue), batch by batch.
 * @param {{ queues: string[], filter: Filter, filterText: string, estimate: number | null, onDone: () => void }} props
 */
function Bulk({ queues, filter, filterText, estimate, onDone }) {
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
    try {
      for (const queue of [...queues]) {
        /** @type {string | undefined} */
        let after;
        do {
          // A batch with a payload filter may match nothing yet return `next` (where its bounded scan stopped): go on.
          const batch = await api.bulk(queue, { action, ...apiFilter(filter), after, limit: BULK_BATCH }, abort.signal);
          r = { ...r, batches: r.batches + 1, matched: r.matched + batch.matched, changed: r.changed + batch.changed, skipped: r.skipped + batch.skipped };
          setRun(r);
          after = batch.next ?? undefined;
        } while (after && !abort.signal.aborted);
        if (abort.signal.aborted) break;
      }
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
      <p>${asking ? verbs[asking] : ''} every job of ${filterText}${queues.length > 1 ? ` (${count(queues.length)} queues, one after the other)` : ''}${estimate !== null ? ` (about ${count(estimate)})` : ''}, ${BULK_BATCH} at a time${filter.payloadPath ? ' (each batch searches a bounded number of jobs)' : ''}. Jobs the action does not apply to are skipped. You can stop between batches.</p>
    <//>
  </section>`;
}
