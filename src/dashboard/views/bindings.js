// Topic bindings (docs/routing.md): the bindings to queues the token may read, where publishes
// that match nothing go and how many there were; with admin, add and remove bindings and set
// the unrouted queue. Read when the page opens and after each change.
import { useState } from 'preact/hooks';
import { html } from '../lib/html.js';
import { useApp, useAsync } from '../lib/context.js';
import { call } from '../lib/api.js';
import { count, time } from '../lib/format.js';
import { to } from '../lib/route.js';
import { Actions, ErrorNote } from '../components/common.js';

/** @typedef {import('../types.js').Bindings} Bindings */

export function BindingsView() {
  const { announce } = useApp();
  const routing = useAsync(async () => /** @type {Bindings} */ (await call('GET', '/v1/bindings')), []);
  const [error, setError] = useState(/** @type {any} */ (null));
  const [busy, setBusy] = useState(false);

  /** Runs one change, then reads the bindings again. @param {() => Promise<unknown>} change @param {string} done */
  const act = async (change, done) => {
    if (busy) return false;
    setBusy(true);
    setError(null);
    try {
      await change();
      announce(done);
      await routing.reload();
      return true;
    } catch (err) {
      setError(err);
      announce(`Failed: ${/** @type {Error} */ (err).message}`, 'error');
      return false;
    } finally {
      setBusy(false);
    }
  };

  /** @param {SubmitEvent} e */
  const bind = async (e) => {
    e.preventDefault();
    const form = /** @type {HTMLFormElement} */ (e.currentTarget);
    const data = new FormData(form);
    const pattern = String(data.get('pattern') ?? '').trim();
    const queue = String(data.get('queue') ?? '').trim();
    if (await act(() => call('POST', '/v1/bindings', { body: { pattern, queue } }), `Bound ${pattern} to ${queue}`)) form.reset();
  };

  /** @param {SubmitEvent} e */
  const setUnrouted = async (e) => {
    e.preventDefault();
    const queue = String(new FormData(/** @type {HTMLFormElement} */ (e.currentTarget)).get('unrouted') ?? '').trim();
    await act(() => call('PUT', '/v1/bindings/unrouted-queue', { body: { queue: queue || null } }),
      queue ? `Publishes that match no binding go to ${queue}` : 'Publishes that match no binding go nowhere');
  };

  const r = routing.data;
  return html`
    <h1 tabindex="-1">Bindings</h1>
    <p>A publish to a topic writes one job in each queue a binding routes it to, all together or none. In a pattern, <code>*</code> stands for exactly one word and <code>#</code> for zero or more: <code>orders.*.created</code>, <code>orders.#</code>.</p>
    ${routing.error ? html`<p class="error" role="alert">${routing.error.message}</p>` : null}
    ${!r ? html`<p aria-busy="true">Loading…</p>` : html`
      <div class="table-wrap">
        <table data-table="bindings">
          <caption>${count(r.bindings.length)} ${r.bindings.length === 1 ? 'binding' : 'bindings'}</caption>
          <thead><tr><th scope="col">Pattern</th><th scope="col">Queue</th><th scope="col">Made</th><th scope="col"><span class="visually-hidden">Actions</span></th></tr></thead>
          <tbody>
            ${r.bindings.length === 0 ? html`<tr><td colspan="4">No bindings. <code>spool bind 'orders.#' audit</code></td></tr>` : null}
            ${r.bindings.map((b) => html`
              <tr key=${`${b.pattern} ${b.queue}`} data-binding=${`${b.pattern} ${b.queue}`}>
                <th scope="row"><code>${b.pattern}</code></th>
                <td><a href=${to.queue(b.queue)}>${b.queue}</a></td>
                <td>${time(b.createdAt)}</td>
                <td><${Actions} label=${`Binding ${b.pattern} to ${b.queue}`}>${(/** @type {any} */ ro) => html`
                  <button type="button" disabled=${ro.disabled || busy} title=${ro.title} aria-label=${`Unbind ${b.pattern} from ${b.queue}`}
                    onClick=${() => act(() => call('DELETE', '/v1/bindings', { query: { pattern: b.pattern, queue: b.queue } }), `Unbound ${b.pattern} from ${b.queue}`)}>Unbind</button>`}<//></td>
              </tr>`)}
          </tbody>
        </table>
      </div>
      <p data-unrouted>Publishes that matched no binding: <strong>${count(r.unrouted)}</strong>; they go to ${r.unroutedQueue ? html`<a href=${to.queue(r.unroutedQueue)}>${r.unroutedQueue}</a>` : 'no queue (counted only)'}.</p>
      <section aria-labelledby="bind-title">
        <h2 id="bind-title">Bind</h2>
        <${Actions} label="Bind a pattern">${(/** @type {any} */ ro) => html`
          <form class="add-job" aria-labelledby="bind-title" onSubmit=${bind}>
            <fieldset disabled=${ro.disabled} aria-describedby=${ro.describedBy} aria-busy=${busy ? 'true' : 'false'}>
              <div class=${`field${error?.field === 'pattern' ? ' invalid' : ''}`}>
                <label for="bind-pattern">Pattern</label>
                <input id="bind-pattern" name="pattern" required autocomplete="off" spellcheck="false" aria-describedby="bind-h-pattern" />
                <small id="bind-h-pattern">words joined by dots; * one word, # zero or more</small>
              </div>
              <div class=${`field${error?.field === 'queue' ? ' invalid' : ''}`}>
                <label for="bind-queue">Queue</label>
                <input id="bind-queue" name="queue" required autocomplete="off" spellcheck="false" />
              </div>
              <div class="form-buttons"><button type="submit" class="primary" title=${ro.title}>Bind</button></div>
            </fieldset>
          </form>
          <form class="add-job" aria-label="Where publishes that match no binding go" onSubmit=${setUnrouted}>
            <fieldset disabled=${ro.disabled} aria-describedby=${ro.describedBy}>
              <div class="field">
                <label for="unrouted-queue">Unrouted queue</label>
                <input id="unrouted-queue" name="unrouted" autocomplete="off" spellcheck="false" defaultValue=${r.unroutedQueue ?? ''} aria-describedby="unrouted-h" key=${r.unroutedQueue ?? ''} />
                <small id="unrouted-h">where publishes that match nothing go; empty: nowhere</small>
              </div>
              <div class="form-buttons"><button type="submit" title=${ro.title}>Set</button></div>
            </fieldset>
          </form>`}<//>
        <${ErrorNote} error=${error} label="Not changed" />
      </section>`}`;
}
