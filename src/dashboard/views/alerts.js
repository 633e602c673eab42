// Alert rules and where they stand (live, from the overview), and their firings and resolutions
// with the webhook's delivery: read when the page opens, whenever a rule's state changes, and
// every few seconds only while a webhook call is still pending.
import { useEffect } from 'preact/hooks';
import { html } from '../lib/html.js';
import { useAsync, useLive } from '../lib/context.js';
import { call } from '../lib/api.js';
import { count, duration, percent, rate, time } from '../lib/format.js';
import { to } from '../lib/route.js';

/** How long the page waits before reading the events again while a delivery is pending. */
const PENDING_REFRESH_MS = 3000;

/** @typedef {import('../types.js').AlertStatus} AlertStatus */
/** @typedef {import('../types.js').AlertEvent} AlertEvent */

/** A rule's value in its kind's unit. @param {string} kind @param {number | null} v */
export function alertValue(kind, v) {
  if (v === null) return '–';
  if (kind === 'oldestReadyAge') return duration(v);
  if (kind === 'utilisation') return percent(v);
  if (kind === 'noWorkers') return `${count(v)} slots`;
  if (kind === 'deadRate') return `${rate(v * 60)}/min`;
  return count(v);
}

/** The condition in words. @param {AlertStatus} a */
export function alertCondition(a) {
  const held = a.forMs > 0 ? ` for ${duration(a.forMs)}` : '';
  switch (a.kind) {
    case 'oldestReadyAge': return `oldest ready job waited > ${duration(a.threshold)}${held}`;
    case 'deadLetters': return `dead jobs > ${count(a.threshold)}${held}`;
    case 'deadRate': return `jobs going dead > ${rate(a.threshold * 60)}/min${held}`;
    case 'utilisation': return `ρ > ${percent(a.threshold)}${held}`;
    default: return `no worker consumes${held}`;
  }
}

export function AlertsView() {
  const live = useLive();
  const o = live.overview;
  // A rule that changed state recorded an event: read them again then.
  const states = o ? o.alerts.map((a) => `${a.id}:${a.state}:${a.since}`).join('|') : '';
  const events = useAsync(async () => /** @type {{ events: AlertEvent[] }} */ (await call('GET', '/v1/alert-events', { query: { limit: 50 } })).events, [states]);
  const pending = events.data?.some((e) => e.delivery === 'pending') ?? false;
  useEffect(() => {
    if (!pending) return undefined;
    const timer = setTimeout(() => void events.reload(), PENDING_REFRESH_MS);
    return () => clearTimeout(timer);
  }, [pending, events.data]);
  if (!o) return html`<h1 tabindex="-1">Alerts</h1><p aria-busy="true">Loading…</p>`;
  const firing = o.alerts.filter((a) => a.state === 'firing').length;
  return html`
    <h1 tabindex="-1">Alerts</h1>
    <p>Rules are set with <code>spool alert set</code> or <code>PUT /v1/alerts/{id}</code> and evaluated each second by the leading broker; each firing and resolution is sent once to the rule's webhook.</p>
    <div class="table-wrap">
      <table data-table="alert-rules">
        <caption>Rules: ${count(o.alerts.length)}, ${count(firing)} firing</caption>
        <thead>
          <tr>
            <th scope="col">Rule</th><th scope="col">Queue</th><th scope="col">Condition</th><th scope="col">State</th>
            <th scope="col" class="num">Value</th><th scope="col">Since</th><th scope="col">Evaluated</th>
          </tr>
        </thead>
        <tbody>
          ${o.alerts.length === 0 ? html`<tr><td colspan="7">No alert rules. <code>spool alert set orders-waiting --queue orders --kind oldestReadyAge --threshold 60000 --webhook https://…</code></td></tr>` : null}
          ${o.alerts.map((a) => html`
            <tr key=${a.id} data-alert=${a.id}>
              <th scope="row">${a.id}</th>
              <td><a href=${to.queue(a.queue)}>${a.queue}</a></td>
              <td>${alertCondition(a)}</td>
              <td><span class=${`badge alert-${a.state}`} data-state=${a.state}>${a.state}</span></td>
              <td class="num">${alertValue(a.kind, a.value)}</td>
              <td>${a.state === 'ok' ? '–' : time(a.since)}</td>
              <td>${time(a.evaluatedAt)}</td>
            </tr>`)}
        </tbody>
      </table>
    </div>
    <h2>Firings and resolutions</h2>
    ${events.error ? html`<p class="error" role="alert">${events.error.message}</p>` : null}
    <div class="table-wrap">
      <table data-table="alert-events">
        <caption>The latest ${count(events.data?.length ?? 0)}, newest first (<code>spool alert events</code> pages back)</caption>
        <thead>
          <tr><th scope="col">When</th><th scope="col">Rule</th><th scope="col">Queue</th><th scope="col">Event</th><th scope="col">Why</th><th scope="col">Webhook</th></tr>
        </thead>
        <tbody>
          ${events.data?.length === 0 ? html`<tr><td colspan="6">Nothing has fired yet.</td></tr>` : null}
          ${(events.data ?? []).map((e) => html`
            <tr key=${e.id} data-event=${e.id}>
              <td>${time(e.at)}</td>
              <td>${e.ruleId}</td>
              <td><a href=${to.queue(e.queue)}>${e.queue}</a></td>
              <td><span class=${`badge alert-${e.event === 'firing' ? 'firing' : 'ok'}`} data-event-kind=${e.event}>${e.event}</span></td>
              <td>${e.reason}</td>
              <td data-delivery=${e.delivery}>${e.delivery === 'delivered' ? `delivered ${time(e.deliveredAt)}` : `${e.delivery} (${e.attempts} ${e.attempts === 1 ? 'try' : 'tries'}${e.lastError ? `: ${e.lastError}` : ''})`}</td>
            </tr>`)}
        </tbody>
      </table>
    </div>`;
}
