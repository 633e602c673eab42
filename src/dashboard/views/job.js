// One job: its state, payload, result, progress, log lines, attempts and a timeline, with
// retry, cancel and delete. While it has not finished it follows the live overview's pushes.
import { useState } from 'preact/hooks';
import { html } from '../lib/html.js';
import { api } from '../lib/api.js';
import { useApp, useAsync, useLive } from '../lib/context.js';
import { duration, time } from '../lib/format.js';
import { to } from '../lib/route.js';
import { Actions, ConfirmDialog, ErrorNote, JsonBlock, StateBadge } from '../components/common.js';

const FINAL = new Set(['completed', 'dead', 'cancelled']);

/** @param {{ id: string }} props */
export function JobView({ id }) {
  const { announce } = useApp();
  const live = useLive();
  const [final, setFinal] = useState(false);
  // A running job is read again on each push (at most once a second); a finished one once.
  const tick = final ? 'final' : live.version;
  const job = useAsync(async () => {
    const [j, logs] = await Promise.all([api.job(id), api.jobLogs(id)]);
    setFinal(FINAL.has(j.state));
    return { ...j, logs: logs.lines };
  }, [id, tick]);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState(/** @type {any} */ (null));
  const [confirmDelete, setConfirmDelete] = useState(false);
  const j = job.data;

  /** @param {string} what @param {() => Promise<any>} run @param {boolean} [gone] */
  const act = async (what, run, gone = false) => {
    setBusy(true);
    setError(null);
    try {
      await run();
      announce(`${what}: done`);
      void live.refresh();
      if (gone) location.hash = to.jobs({ queue: j.queue });
      else {
        setFinal(false);
        await job.reload();
      }
    } catch (err) {
      setError(err);
      announce(`${what} failed: ${/** @type {Error} */ (err).message}`, 'error');
    } finally {
      setBusy(false);
    }
  };

  if (!j) {
    return html`<h1 tabindex="-1">Job <span class="mono">${id}</span></h1>
      ${job.error ? html`<${ErrorNote} error=${job.error} />` : html`<p aria-busy="true">Loading…</p>`}`;
  }
  const canRetry = ['dead', 'cancelled', 'scheduled'].includes(j.state);
  const canCancel = ['scheduled', 'ready', 'active'].includes(j.state);
  const canDelete = j.state !== 'active';
  return html`
    <h1 tabindex="-1">Job <span class="mono">${j.id}</span> <span data-job-state=${j.state}><${StateBadge} state=${j.state} /></span></h1>
    <p class="crumbs">in queue <a href=${to.queue(j.queue)}>${j.queue}</a> · name <a href=${to.jobs({ queue: j.queue, name: j.name })}>${j.name}</a></p>
    <${Actions} label="Job actions">${(/** @type {any} */ ro) => html`
      <button type="button" disabled=${ro.disabled || busy || !canRetry} aria-describedby=${ro.describedBy} title=${ro.title ?? (canRetry ? undefined : 'only a dead, cancelled or scheduled job can be retried')}
        onClick=${() => act('Retry', () => api.retry(j.id))}>Retry</button>
      <button type="button" disabled=${ro.disabled || busy || !canCancel} aria-describedby=${ro.describedBy} title=${ro.title ?? (canCancel ? undefined : 'only a job that has not finished can be cancelled')}
        onClick=${() => act('Cancel', () => api.cancel(j.id))}>Cancel</button>
      <button type="button" class="danger" disabled=${ro.disabled || busy || !canDelete} aria-describedby=${ro.describedBy} title=${ro.title ?? (canDelete ? undefined : 'cancel a running job before deleting it')}
        onClick=${() => setConfirmDelete(true)}>Delete…</button>`}
    <//>
    <${ErrorNote} error=${error} />
    <${ErrorNote} error=${job.error} label="Could not refresh" />
    <${ConfirmDialog} open=${confirmDelete} title="Delete this job?" confirmLabel="Delete"
      onCancel=${() => setConfirmDelete(false)}
      onConfirm=${() => {
        setConfirmDelete(false);
        void act('Delete', () => api.deleteJob(j.id), true);
      }}>
      <p>Job ${j.id} of ${j.queue}, its history and its log lines are deleted. This cannot be undone.</p>
    <//>
    <div class="job-grid">
      <section aria-labelledby="details-title" class="card">
        <h2 id="details-title">Details</h2>
        <dl class="details">
          <dt>group</dt><dd>${j.group ? html`<a href=${to.jobs({ queue: j.queue, group: j.group })} data-group=${j.group}>${j.group}</a>` : 'none'}</dd>
          <dt>attempts</dt><dd>${j.attempt} of ${j.maxAttempts}</dd>
          <dt>stalls</dt><dd>${j.stalls} of ${j.maxStalls}</dd>
          <dt>priority</dt><dd>${j.priority}</dd>
          <dt>created</dt><dd>${time(j.createdAt)}</dd>
          <dt>runs at</dt><dd>${waitsForChildren(j) ? 'when its children have finished (a flow\'s parent)' : time(j.runAt)}</dd>
          <dt>updated</dt><dd>${time(j.updatedAt)}</dd>
          <dt>finished</dt><dd>${time(j.finishedAt)}</dd>
          ${j.leaseExpiresAt ? html`<dt>lease until</dt><dd>${time(j.leaseExpiresAt)}</dd>` : null}
          <dt>timeout</dt><dd>${j.timeoutMs ? duration(j.timeoutMs) : 'none'}</dd>
          ${j.deadReason ? html`<dt>dead because</dt><dd>${j.deadReason}</dd>` : null}
          ${j.lastError ? html`<dt>last error</dt><dd class="error-text">${j.lastError}</dd>` : null}
        </dl>
      </section>
      <section aria-labelledby="progress-title" class="card">
        <h2 id="progress-title">Progress</h2>
        <${Progress} value=${j.progress} />
      </section>
    </div>
    <${JsonBlock} label="Payload" value=${j.payload} />
    ${j.state === 'completed' || j.result !== null ? html`<${JsonBlock} label="Result" value=${j.result} />` : null}
    ${j.childResults ? html`<${JsonBlock} label="Child results" value=${j.childResults} />` : null}
    <${Timeline} job=${j} />
    <section aria-labelledby="logs-title">
      <h2 id="logs-title">Log</h2>
      ${j.logs.length === 0 ? html`<p>No log lines (a handler writes them with <code>job.log()</code>).</p>` : html`
        <div class="table-wrap"><table class="log">
          <caption>${j.logs.length === 1 ? '1 line' : `${j.logs.length} lines`}, oldest first</caption>
          <thead><tr><th scope="col">Time</th><th scope="col" class="num">Attempt</th><th scope="col">Line</th></tr></thead>
          <tbody>${j.logs.map((/** @type {any} */ l, /** @type {number} */ i) => html`<tr key=${i}><td>${time(l.at)}</td><td class="num">${l.attempt}</td><td class="mono pre">${l.line}</td></tr>`)}</tbody>
        </table></div>`}
    </section>
    <section aria-labelledby="attempts-title">
      <h2 id="attempts-title">Attempts</h2>
      ${j.history.length === 0 ? html`<p>No attempt has ended yet.</p>` : html`
        <div class="table-wrap"><table>
          <caption>How each delivery ended</caption>
          <thead><tr><th scope="col" class="num">Attempt</th><th scope="col" class="num">Lease</th><th scope="col">Started</th><th scope="col">Took</th><th scope="col">Outcome</th><th scope="col">Error</th></tr></thead>
          <tbody>${j.history.map((/** @type {any} */ a) => html`<tr key=${a.token}>
            <td class="num">${a.attempt}</td><td class="num">${a.token}</td><td>${time(a.startedAt)}</td><td>${duration(a.endedAt - a.startedAt)}</td>
            <td><span class=${`badge outcome-${a.outcome}`}>${a.outcome}</span></td><td class="error-text pre">${a.error ?? ''}</td>
          </tr>`)}</tbody>
        </table></div>`}
    </section>`;
}

/** A number from 0 to 100, or `{ done|page|current, of|total }`, as a bar; anything else as JSON. @param {{ value: unknown }} props */
function Progress({ value }) {
  if (value === null || value === undefined) return html`<p>None reported (a handler reports it with <code>job.updateProgress()</code>).</p>`;
  /** @type {[number, number] | null} */
  let bar = null;
  if (typeof value === 'number' && value >= 0 && value <= 100) bar = [value, 100];
  else if (typeof value === 'object' && !Array.isArray(value)) {
    const v = /** @type {Record<string, unknown>} */ (value);
    const done = v.done ?? v.page ?? v.current ?? v.step;
    const of = v.of ?? v.total ?? v.steps;
    if (typeof done === 'number' && typeof of === 'number' && of > 0) bar = [Math.min(done, of), of];
  }
  return html`
    ${bar ? html`<p><progress max=${bar[1]} value=${bar[0]} aria-label="Progress"></progress> ${Math.round((bar[0] / bar[1]) * 100)}%</p>` : null}
    <pre class="progress-value" tabindex="0">${JSON.stringify(value, null, 2)}</pre>`;
}

/** A flow's parent waiting for its children: scheduled at a run time that never falls due (FLOW_WAIT_AT, docs/flows.md). @param {any} job */
const waitsForChildren = (job) => job.state === 'scheduled' && job.runAt === 2 ** 52;

/** Created → each attempt → finished, in time order. @param {{ job: any }} props */
function Timeline({ job }) {
  /** @type {{ at: number, text: string, kind: string }[]} */
  const events = [{ at: job.createdAt, text: 'created', kind: 'created' }];
  for (const a of job.history) {
    events.push({ at: a.startedAt, text: `attempt ${a.attempt} started (lease ${a.token})`, kind: 'started' });
    events.push({ at: a.endedAt, text: `attempt ${a.attempt} ${a.outcome}${a.error ? `: ${a.error.split('\n')[0]}` : ''}`, kind: a.outcome });
  }
  if (job.state === 'active') events.push({ at: job.updatedAt, text: `attempt ${job.attempt} running (lease ${job.leaseToken})`, kind: 'active' });
  if (waitsForChildren(job)) events.push({ at: job.createdAt, text: 'waiting for its children (a flow\'s parent)', kind: job.state });
  else if (job.state === 'scheduled' || job.state === 'ready') events.push({ at: job.runAt, text: job.state === 'scheduled' ? 'due to run' : 'waiting to run since', kind: job.state });
  if (job.finishedAt) events.push({ at: job.finishedAt, text: `finished: ${job.state}${job.deadReason ? ` (${job.deadReason})` : ''}`, kind: job.state });
  events.sort((a, b) => a.at - b.at);
  return html`<section aria-labelledby="timeline-title">
    <h2 id="timeline-title">Timeline</h2>
    <ol class="timeline">
      ${events.map((e, i) => html`<li key=${i} class=${`tl-${e.kind}`}><time datetime=${new Date(e.at).toISOString()}>${time(e.at)}</time> ${e.text}${i > 0 ? html` <span class="sub">+${duration(e.at - events[i - 1].at)}</span>` : null}</li>`)}
    </ol>
  </section>`;
}
