// One queue: its counts (live), the workers a target wait needs, pause and resume, purge and
// delete (confirmed), a form to add a job, its settings as an editable form, and its dead letters.
import { useId, useRef, useState } from 'preact/hooks';
import { html } from '../lib/html.js';
import { api } from '../lib/api.js';
import { useApp, useAsync, useLive } from '../lib/context.js';
import { count, duration, shortId, time } from '../lib/format.js';
import { to } from '../lib/route.js';
import { Actions, ConfirmDialog, ErrorNote, StateBadge } from '../components/common.js';
import { QueueChart } from '../components/chart.js';
import { CapacityPanel } from '../components/capacity.js';

/** @type {import('../types.js').JobState[]} */
const STATES = ['ready', 'scheduled', 'active', 'completed', 'dead', 'cancelled'];
const DEAD_SHOWN = 20;

/** @param {{ queue: string }} props */
export function QueueView({ queue }) {
  const { announce } = useApp();
  const live = useLive();
  const stats = live.overview?.queues.find((q) => q.queue === queue);
  const [confirmPurge, setConfirmPurge] = useState(false);
  const [confirmDelete, setConfirmDelete] = useState(false);
  const [force, setForce] = useState(false);
  // Deleted: nothing here may ask the broker about the queue again (each would be a 404) while the page goes to the overview.
  const [gone, setGone] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState(/** @type {any} */ (null));
  const dead = useAsync(() => (gone ? Promise.resolve(null) : api.listJobs(queue, { state: 'dead', limit: DEAD_SHOWN })), [queue, stats?.counts.dead, gone]);

  /** @param {string} what @param {() => Promise<any>} run @param {(r: any) => string} said @param {() => void} [then] */
  const act = async (what, run, said, then) => {
    setBusy(true);
    setError(null);
    try {
      const r = await run();
      announce(said(r));
      then?.();
      await live.refresh();
    } catch (err) {
      setError(err);
      announce(`${what} failed: ${/** @type {Error} */ (err).message}`, 'error');
    } finally {
      setBusy(false);
    }
  };

  if (gone) return html`<h1 tabindex="-1">Queue <span class="mono">${queue}</span></h1><p>Deleted.</p>`;
  return html`
    <h1 tabindex="-1">Queue <span class="mono">${queue}</span> ${stats?.paused ? html`<span class="badge paused" data-paused="true">paused</span>` : null}</h1>
    ${live.overview && !stats ? html`<p class="note">This queue is not in the overview: it has no jobs yet, or this token may not read it.</p>` : null}
    ${stats ? html`
      <dl class="counts" aria-label="Jobs per state">
        ${STATES.map((s) => html`<div key=${s}><dt>${s}</dt><dd data-count=${s}><a href=${to.jobs({ queue, state: s })}>${count(stats.counts[s])}</a></dd></div>`)}
        <div><dt>oldest ready</dt><dd>${stats.oldestReadyAgeMs ? duration(stats.oldestReadyAgeMs) : '–'}</dd></div>
        ${stats.unservable > 0 ? html`
          <div><dt>unservable</dt><dd data-unservable title="ready jobs whose required tags no live worker of this queue has">${count(stats.unservable)}</dd></div>` : null}
        ${stats.maxLength === null ? null : html`
          <div><dt>waiting / bound</dt><dd data-bound=${stats.overflow} title=${`overflow: ${stats.overflow}`}>${count(stats.length)} / ${count(stats.maxLength)}</dd></div>
          <div><dt>dropped</dt><dd data-dropped>${count(stats.model.dropped)}</dd></div>`}
      </dl>
      <figure class="card wide"><figcaption>Over time</figcaption>
        <${QueueChart} queue=${queue} series=${live.series.get(queue)} version=${live.version} />
      </figure>
      <${CapacityPanel} queue=${queue} at=${live.overview?.at} />` : null}
    <${Actions} label="Queue actions">${(/** @type {any} */ ro) => html`
      ${stats?.paused
        ? html`<button type="button" disabled=${ro.disabled || busy} aria-describedby=${ro.describedBy} title=${ro.title}
            onClick=${() => act('Resume', () => api.resume(queue), () => `Queue ${queue} resumed`)}>Resume deliveries</button>`
        : html`<button type="button" disabled=${ro.disabled || busy} aria-describedby=${ro.describedBy} title=${ro.title}
            onClick=${() => act('Pause', () => api.pause(queue), () => `Queue ${queue} paused: it takes adds but delivers nothing`)}>Pause deliveries</button>`}
      <button type="button" class="danger" disabled=${ro.disabled || busy} aria-describedby=${ro.describedBy} title=${ro.title} onClick=${() => setConfirmPurge(true)}>Purge waiting jobs…</button>
      <button type="button" class="danger" disabled=${ro.disabled || busy} aria-describedby=${ro.describedBy} title=${ro.title} onClick=${() => {
        setForce(false);
        setConfirmDelete(true);
      }}>Delete queue…</button>
      <a class="button" href=${to.jobs({ queue })}>Browse jobs</a>`}
    <//>
    <${ErrorNote} error=${error} />
    <${ConfirmDialog}
      open=${confirmPurge}
      title=${`Purge queue ${queue}?`}
      confirmLabel="Purge"
      onCancel=${() => setConfirmPurge(false)}
      onConfirm=${() => {
        setConfirmPurge(false);
        void act('Purge', () => api.purge(queue), (r) => `Purged ${count(r.purged)} waiting jobs of ${queue}`);
      }}>
      <p>Deletes every waiting job (${count((stats?.counts.ready ?? 0) + (stats?.counts.scheduled ?? 0))} ready or scheduled now). Running and finished jobs stay. This cannot be undone.</p>
    <//>
    <${ConfirmDialog}
      open=${confirmDelete}
      title=${`Delete queue ${queue}?`}
      confirmLabel="Delete queue"
      onCancel=${() => setConfirmDelete(false)}
      onConfirm=${() => {
        setConfirmDelete(false);
        void act('Delete', () => api.deleteQueue(queue, force), (r) => `Deleted queue ${queue} and its ${count(r.jobsDeleted)} ${r.jobsDeleted === 1 ? 'job' : 'jobs'}`, () => {
          setGone(true);
          location.hash = to.overview();
        });
      }}>
      <${DeleteQueueText} queue=${queue} counts=${stats?.counts} force=${force} onForce=${setForce} />
    <//>
    <${AddJob} queue=${queue} />
    <${Settings} queue=${queue} />
    <section aria-labelledby="dead-title">
      <h2 id="dead-title">Dead letters</h2>
      <${ErrorNote} error=${dead.error} />
      ${dead.data ? html`
        <div class="table-wrap"><table>
          <caption>${dead.data.jobs.length === 0 ? 'No dead jobs.' : deadCaption(dead.data.jobs.length)}</caption>
          <thead><tr><th scope="col">Job</th><th scope="col">Name</th><th scope="col">State</th><th scope="col">Attempts</th><th scope="col">Why</th><th scope="col">Finished</th><th scope="col">Last error</th></tr></thead>
          <tbody>${dead.data.jobs.map((/** @type {any} */ j) => html`
            <tr key=${j.id}>
              <th scope="row"><a class="mono" href=${to.job(j.id)} aria-label=${`job ${j.id}`}>${shortId(j.id)}</a></th>
              <td>${j.name}</td><td><${StateBadge} state=${j.state} /></td><td class="num">${j.attempt}/${j.maxAttempts}</td>
              <td>${j.deadReason ?? '–'}</td><td>${time(j.finishedAt)}</td><td class="clip">${j.lastError ?? ''}</td>
            </tr>`)}
          </tbody>
        </table></div>
        <p><a href=${to.jobs({ queue, state: 'dead' })}>All dead jobs of ${queue}, with bulk retry…</a></p>` : null}
    </section>`;
}

/**
 * What deleting the queue takes with it, and the choice to take its running jobs too (`force`).
 * @param {{ queue: string, counts: Record<string, number> | undefined, force: boolean, onForce: (force: boolean) => void }} props
 */
function DeleteQueueText({ queue, counts, force, onForce }) {
  const id = useId();
  const total = counts ? STATES.reduce((n, s) => n + (counts[s] ?? 0), 0) : null;
  const active = counts?.active ?? 0;
  return html`
    <p data-delete-count=${total ?? ''}>Deletes queue <strong class="mono">${queue}</strong>, its settings and ${total === null
      ? 'all its jobs'
      : html`<strong>all ${count(total)} of its ${total === 1 ? 'job' : 'jobs'}</strong> (${STATES.filter((s) => counts?.[s]).map((s) => `${count(counts?.[s] ?? 0)} ${s}`).join(', ') || 'none now'})`},
      in every state. Jobs added afterwards make the queue anew with default settings. This cannot be undone.</p>
    <p class="check">
      <input type="checkbox" id=${id} checked=${force} onChange=${(/** @type {any} */ e) => onForce(e.currentTarget.checked)} />
      <label for=${id}>Also delete its running jobs${active ? ` (${count(active)} now)` : ''}: their handlers' results are then refused (STALE_LEASE). Without this, a queue with a running job is not deleted.</label>
    </p>`;
}

/**
 * Adds one job (addJobs): name, a JSON payload (checked here, the error said at the field),
 * priority, delay and max attempts; empty fields are left out, so the queue's settings apply.
 * @param {{ queue: string }} props
 */
function AddJob({ queue }) {
  const { announce, live } = useApp();
  const [payloadError, setPayloadError] = useState(/** @type {string | null} */ (null));
  const [error, setError] = useState(/** @type {any} */ (null));
  const [adding, setAdding] = useState(false);
  const [added, setAdded] = useState(/** @type {{ id: string } | null} */ (null));
  const payloadRef = useRef(/** @type {HTMLTextAreaElement | null} */ (null));

  /** @param {SubmitEvent} e */
  const submit = async (e) => {
    e.preventDefault();
    // The fields stay enabled while it is sent (a disabled button would drop the focus): a second submit waits.
    if (adding) return;
    const form = new FormData(/** @type {HTMLFormElement} */ (e.currentTarget));
    const text = (/** @type {string} */ k) => String(form.get(k) ?? '').trim();
    setError(null);
    setAdded(null);
    /** @type {unknown} */
    let payload;
    try {
      payload = JSON.parse(text('payload'));
    } catch (err) {
      setPayloadError(`Not JSON: ${/** @type {Error} */ (err).message}`);
      payloadRef.current?.focus();
      return;
    }
    setPayloadError(null);
    /** @type {{ payload: unknown, name?: string, priority?: number, delayMs?: number, maxAttempts?: number }} */
    const job = { payload };
    if (text('name')) job.name = text('name');
    for (const k of /** @type {const} */ (['priority', 'delayMs', 'maxAttempts'])) if (text(k)) job[k] = Number(text(k));
    setAdding(true);
    try {
      const j = await api.addJob(queue, job);
      setAdded(j);
      announce(`Added job ${j.id} to ${queue}`);
      void live.refresh();
    } catch (err) {
      setError(err);
      announce(`Adding the job failed: ${/** @type {Error} */ (err).message}`, 'error');
    } finally {
      setAdding(false);
    }
  };

  /** @param {{ name: string, label: string, min: number, max: number, hint: string }} p */
  const number = ({ name, label, min, max, hint }) => html`
    <div class=${`field${error?.field === name ? ' invalid' : ''}`}>
      <label for=${`add-${name}`}>${label}</label>
      <input id=${`add-${name}`} name=${name} type="number" inputmode="numeric" min=${min} max=${max} step="1" aria-describedby=${`add-h-${name}`} />
      <small id=${`add-h-${name}`}>${hint}</small>
    </div>`;

  return html`<section aria-labelledby="add-title">
    <h2 id="add-title">Add a job</h2>
    <${Actions} label="Add a job">${(/** @type {any} */ ro) => html`
      <form class="add-job" aria-labelledby="add-title" onSubmit=${submit} onInput=${(/** @type {Event} */ e) => {
        if (/** @type {HTMLElement} */ (e.target).id === 'add-payload') setPayloadError(null);
      }}>
        <fieldset disabled=${ro.disabled} aria-describedby=${ro.describedBy} aria-busy=${adding ? 'true' : 'false'}>
          <legend class="visually-hidden">A job for ${queue}</legend>
          <div class=${`field wide${payloadError || error?.field === 'payload' ? ' invalid' : ''}`}>
            <label for="add-payload">Payload (JSON)</label>
            <textarea id="add-payload" name="payload" ref=${payloadRef} rows="4" spellcheck="false" required defaultValue="{}"
              aria-invalid=${payloadError ? 'true' : 'false'} aria-describedby=${payloadError ? 'add-payload-error' : 'add-h-payload'}></textarea>
            ${payloadError
              ? html`<small id="add-payload-error" class="field-error">${payloadError}</small>`
              : html`<small id="add-h-payload">any JSON value: an object, an array, a string in quotes, a number…</small>`}
          </div>
          <div class=${`field${error?.field === 'name' ? ' invalid' : ''}`}>
            <label for="add-name">Name</label>
            <input id="add-name" name="name" autocomplete="off" aria-describedby="add-h-name" />
            <small id="add-h-name">optional: what workers route on</small>
          </div>
          ${number({ name: 'priority', label: 'Priority', min: -1_000_000, max: 1_000_000, hint: 'higher runs first; empty: 0' })}
          ${number({ name: 'delayMs', label: 'Delay (ms)', min: 0, max: 315_360_000_000, hint: 'runs no sooner; empty: now' })}
          ${number({ name: 'maxAttempts', label: 'Max attempts', min: 1, max: 1000, hint: "empty: the queue's setting" })}
          <div class="form-buttons"><button type="submit" class="primary" title=${ro.title}>Add job</button></div>
        </fieldset>
      </form>`}<//>
    <${ErrorNote} error=${error} label="Not added" />
    ${added ? html`<p class="note" data-added=${added.id}>Added <a class="mono" href=${to.job(added.id)} aria-label=${`job ${added.id}`}>${shortId(added.id)}</a>. <a href=${to.jobs({ queue })}>Browse the jobs of ${queue}</a></p>` : null}
  </section>`;
}

/** @param {number} n */
const deadCaption = (n) => (n < DEAD_SHOWN ? `${n} dead ${n === 1 ? 'job' : 'jobs'}, oldest first` : `The first ${n} dead jobs, oldest first`);

/** The queue's settings (configureQueue): what is sent replaces those fields only. @param {{ queue: string }} props */
function Settings({ queue }) {
  const { announce } = useApp();
  const config = useAsync(() => api.queueConfig(queue), [queue]);
  const [error, setError] = useState(/** @type {any} */ (null));
  const [saving, setSaving] = useState(false);
  const [backoffType, setBackoffType] = useState(/** @type {string | null} */ (null));
  const c = config.data?.config;

  /** @param {SubmitEvent} e */
  const save = async (e) => {
    e.preventDefault();
    const form = new FormData(/** @type {HTMLFormElement} */ (e.currentTarget));
    const n = (/** @type {string} */ k) => Number(form.get(k));
    const type = String(form.get('backoff.type'));
    const body = {
      visibilityTimeoutMs: n('visibilityTimeoutMs'),
      maxAttempts: n('maxAttempts'),
      maxStalls: n('maxStalls'),
      timeoutMs: n('timeoutMs'),
      backoff: type === 'fixed' ? { type, delayMs: n('backoff.delayMs') } : { type, delayMs: n('backoff.delayMs'), maxDelayMs: n('backoff.maxDelayMs') },
    };
    setSaving(true);
    setError(null);
    try {
      await api.configure(queue, body);
      announce(`Settings of ${queue} saved`);
      await config.reload();
    } catch (err) {
      setError(err);
      announce(`Saving the settings failed: ${/** @type {Error} */ (err).message}`, 'error');
    } finally {
      setSaving(false);
    }
  };

  /** @param {{ name: string, label: string, value: number, min?: number, hint?: string }} p */
  const field = ({ name, label, value, min = 0, hint }) => html`
    <div class=${`field${error?.field === name || error?.field === `config.${name}` ? ' invalid' : ''}`}>
      <label for=${`f-${name}`}>${label}</label>
      <input id=${`f-${name}`} name=${name} type="number" inputmode="numeric" min=${min} step="1" required defaultValue=${value} aria-describedby=${hint ? `h-${name}` : undefined} />
      ${hint ? html`<small id=${`h-${name}`}>${hint}</small>` : null}
    </div>`;

  const type = backoffType ?? c?.backoff.type;
  return html`<section aria-labelledby="settings-title">
    <h2 id="settings-title">Settings</h2>
    <${ErrorNote} error=${config.error} />
    ${c ? html`<${Actions} label="Settings">${(/** @type {any} */ ro) => html`
      <form class="settings" onSubmit=${save} key=${JSON.stringify(c)}>
        <fieldset disabled=${ro.disabled || saving} aria-describedby=${ro.describedBy}>
          <legend class="visually-hidden">Settings of ${queue}</legend>
          ${field({ name: 'visibilityTimeoutMs', label: 'Visibility timeout (ms)', value: c.visibilityTimeoutMs, min: 1, hint: 'lease length of a delivery' })}
          ${field({ name: 'maxAttempts', label: 'Max attempts', value: c.maxAttempts, min: 1, hint: 'for new jobs' })}
          ${field({ name: 'maxStalls', label: 'Max stalls', value: c.maxStalls, hint: 'expired leases before a job is poison' })}
          ${field({ name: 'timeoutMs', label: 'Attempt timeout (ms)', value: c.timeoutMs, hint: '0: no limit' })}
          <div class="field">
            <label for="f-backoff-type">Backoff</label>
            <select id="f-backoff-type" name="backoff.type" value=${type} onChange=${(/** @type {any} */ e) => setBackoffType(e.currentTarget.value)}>
              <option value="exponential">exponential</option>
              <option value="fixed">fixed</option>
            </select>
          </div>
          ${field({ name: 'backoff.delayMs', label: 'Backoff delay (ms)', value: c.backoff.delayMs })}
          ${type === 'exponential' ? field({ name: 'backoff.maxDelayMs', label: 'Backoff max delay (ms)', value: c.backoff.maxDelayMs ?? c.backoff.delayMs }) : null}
          <div class="form-buttons"><button type="submit" class="primary" title=${ro.title}>Save settings</button></div>
        </fieldset>
      </form>`}<//>` : html`<p aria-busy="true">Loading…</p>`}
    <${ErrorNote} error=${error} label="Not saved" />
  </section>`;
}
