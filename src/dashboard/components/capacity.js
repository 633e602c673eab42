// The capacity panel of a queue: for a target mean wait, how many workers the M/M/c model
// (Erlang C) says it needs, from the λ, S and c the broker measured (GET /v1/queues/{queue}/capacity),
// with the model's assumptions beside the numbers so nobody reads them as a promise.
import { useEffect, useId, useRef, useState } from 'preact/hooks';
import { html } from '../lib/html.js';
import { api } from '../lib/api.js';
import { useAsync } from '../lib/context.js';
import { count, duration, percent, rate } from '../lib/format.js';
import { ErrorNote } from './common.js';

/** The target to start from: the broker's default (capacityTargetWaitMs). */
const DEFAULT_TARGET_MS = 1000;
/** Typing settles this long before the panel asks again, so each keystroke is not a request. */
const DEBOUNCE_MS = 400;
/** The overview is pushed at most once a second; the panel asks no more often than that for it. */
const REFRESH_MS = 1000;

/**
 * `value`, changing at most once per `ms`: a change sooner than that is taken when the time is up.
 * @template T
 * @param {T} value
 * @param {number} ms
 * @returns {T}
 */
function useThrottled(value, ms) {
  const [taken, setTaken] = useState(value);
  const last = useRef(0);
  useEffect(() => {
    const wait = last.current + ms - Date.now();
    const take = () => {
      last.current = Date.now();
      setTaken(value);
    };
    if (wait <= 0) return void take();
    const timer = setTimeout(take, wait);
    return () => clearTimeout(timer);
  }, [value, ms]);
  return taken;
}

/**
 * @param {{ queue: string, at: number | undefined }} props `at`: when the live overview was aggregated; a newer one asks again.
 */
export function CapacityPanel({ queue, at }) {
  const ids = { title: useId(), target: useId(), hint: useId(), assumptions: useId() };
  const [text, setText] = useState(String(DEFAULT_TARGET_MS));
  const [target, setTarget] = useState(DEFAULT_TARGET_MS);
  // The page checks only that it is a whole number; the broker holds the bound and says it when refused.
  const typed = /^\d+$/.test(text.trim()) ? Number(text.trim()) : null;
  useEffect(() => {
    if (typed === null) return;
    const timer = setTimeout(() => setTarget(typed), DEBOUNCE_MS);
    return () => clearTimeout(timer);
  }, [typed]);
  const tick = useThrottled(at, REFRESH_MS);
  /** @type {{ data: import('../types.js').QueueCapacity | undefined, error: any }} */
  const capacity = useAsync(() => api.capacity(queue, target), [queue, target, tick]);
  const c = capacity.data;
  const invalid = typed === null || (capacity.error?.field === 'targetWaitMs');

  return html`<section class="card capacity" aria-labelledby=${ids.title}>
    <h2 id=${ids.title}>Capacity</h2>
    <div class="capacity-body">
      <div>
        <div class="capacity-row">
          <div class=${`field${invalid ? ' invalid' : ''}`}>
            <label for=${ids.target}>Target mean wait before a job starts (ms)</label>
            <input id=${ids.target} type="number" inputmode="numeric" min="1" step="1" value=${text} aria-invalid=${invalid ? 'true' : undefined}
              aria-describedby=${ids.hint} onInput=${(/** @type {any} */ e) => setText(e.currentTarget.value)} />
            <small id=${ids.hint}>${typed === null ? 'A whole number of milliseconds, at least 1.' : 'Asked again as you type and as the numbers are measured.'}</small>
          </div>
          ${c ? html`
            <dl class="counts" aria-describedby=${ids.assumptions} data-at=${c.at} data-target=${c.targetWaitMs}>
              <div class="needed"><dt>workers needed for ≤ ${wait(c.targetWaitMs)}</dt>
                <dd data-capacity="workersNeeded"><strong>${count(c.workersNeeded)}</strong></dd></div>
              <div><dt>λ, added per second</dt><dd data-capacity="arrivalRate">${rate(c.arrivalRate)}</dd></div>
              <div><dt>S, mean run time</dt><dd data-capacity="serviceTimeMs">${wait(c.serviceTimeMs)}</dd></div>
              <div><dt>c, worker slots</dt><dd data-capacity="workers">${count(c.workers)}</dd></div>
              <div><dt>ρ, utilisation</dt><dd data-capacity="utilisation">${percent(c.utilisation)}</dd></div>
              <div><dt>mean wait, ${count(c.workers)} ${c.workers === 1 ? 'worker' : 'workers'}</dt>
                <dd data-capacity="predictedWaitMs" class=${c.overloaded ? 'error-text' : ''}>${c.overloaded ? 'grows without bound' : wait(c.predictedWaitMs)}</dd></div>
            </dl>` : capacity.error ? null : html`<p aria-busy="true">Loading…</p>`}
        </div>
        <${ErrorNote} error=${typed === null ? null : capacity.error} />
      </div>
      ${c ? html`<p class="note" id=${ids.assumptions}>
        ${c.overloaded ? html`<strong class="error-text">λ·S ≥ c: the workers cannot keep up, and the wait grows for as long as this lasts. </strong>` : null}
        ${c.workersNeeded === null ? html`<strong>${neededWhyNot(c)} </strong>` : null}
        Assumes ${c.assumptions}. Bursts, priorities, retries and run times that depend on the payload break these: read the numbers as an estimate to start from.
        Measured across the brokers sharing the store over the last ${duration(c.windowMs)}.</p>` : null}
    </div>
  </section>`;
}

/** A duration, with the waits too short for `duration` to show said so rather than as 0 ms. @param {number | null} ms */
const wait = (ms) => (ms !== null && ms > 0 && ms < 1 ? '< 1 ms' : duration(ms));

/** Why there is no number of workers. @param {import('../types.js').QueueCapacity} c */
const neededWhyNot = (c) => (c.serviceTimeMs === null ? 'No attempt has finished in the window, so S and the workers needed are not known yet.' : 'More than 10,000 workers would be needed.');
