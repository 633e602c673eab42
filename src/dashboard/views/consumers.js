// The consumers connected to every broker sharing the store (each publishes its own), from the live overview.
import { html } from '../lib/html.js';
import { useLive } from '../lib/context.js';
import { ago, count, time } from '../lib/format.js';
import { to } from '../lib/route.js';

export function ConsumersView() {
  const live = useLive();
  const o = live.overview;
  if (!o) return html`<h1 tabindex="-1">Consumers</h1><p aria-busy="true">Loading…</p>`;
  return html`
    <h1 tabindex="-1">Consumers</h1>
    <div class="table-wrap">
      <table>
        <caption>Connected to the brokers and processes sharing this store: ${o.consumers.length}</caption>
        <thead>
          <tr>
            <th scope="col">Client</th>
            <th scope="col">Address</th>
            <th scope="col">Broker</th>
            <th scope="col">Queues (slots, in flight)</th>
            <th scope="col">Connected</th>
            <th scope="col">Last seen</th>
          </tr>
        </thead>
        <tbody>
          ${o.consumers.length === 0 ? html`<tr><td colspan="6">No consumer is connected. Processes sharing the store publish theirs about once a second.</td></tr>` : null}
          ${o.consumers.map((c) => html`
            <tr key=${c.id} data-consumer=${c.id}>
              <th scope="row">${c.client || '(unnamed)'}<div class="sub">${c.id}</div></th>
              <td>${c.address}</td>
              <td>${c.process ? html`${c.process.host}:${c.process.pid}<div class="sub">${c.process.id.slice(0, 8)}</div>` : ''}</td>
              <td>
                <ul class="plain">
                  ${c.queues.map((q) => html`<li key=${q.queue}><a href=${to.queue(q.queue)}>${q.queue}</a>: ${count(q.slots)} slots, ${count(q.inFlight)} in flight</li>`)}
                </ul>
              </td>
              <td>${time(c.connectedAt)}</td>
              <td>${ago(c.lastSeenAt, o.at)}</td>
            </tr>`)}
        </tbody>
      </table>
    </div>`;
}
