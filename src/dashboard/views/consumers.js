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
      <table data-table="processes">
        <caption>Brokers and processes sharing this store: ${o.processes.length}</caption>
        <thead>
          <tr><th scope="col">Process</th><th scope="col">Upkeep</th><th scope="col" class="num">Consumers</th><th scope="col">Last heard from</th></tr>
        </thead>
        <tbody>
          ${o.processes.map((p, i) => html`
            <tr key=${p.id} data-process=${p.id}>
              <th scope="row">${p.host}:${p.pid}${i === 0 ? html` <span class="badge">this broker</span>` : null}<div class="sub">${p.id}</div></th>
              <td>${p.leader ? html`<span class="badge alert-ok">leads</span>` : '–'}</td>
              <td class="num">${count(p.consumers)}</td>
              <td>${ago(p.lastSeenAt, o.at)}</td>
            </tr>`)}
        </tbody>
      </table>
    </div>
    <div class="table-wrap">
      <table>
        <caption>Connected to the brokers and processes sharing this store: ${o.consumers.length}</caption>
        <thead>
          <tr>
            <th scope="col">Client</th>
            <th scope="col">Tags</th>
            <th scope="col">Address</th>
            <th scope="col">Broker</th>
            <th scope="col">Queues (slots, in flight)</th>
            <th scope="col">Connected</th>
            <th scope="col">Last seen</th>
          </tr>
        </thead>
        <tbody>
          ${o.consumers.length === 0 ? html`<tr><td colspan="7">No consumer is connected. Processes sharing the store publish theirs about once a second.</td></tr>` : null}
          ${o.consumers.map((c) => html`
            <tr key=${c.id} data-consumer=${c.id}>
              <th scope="row">${c.client || '(unnamed)'}<div class="sub">${c.id}</div></th>
              <td>${Object.entries(c.tags).map(([k, v]) => html`<span key=${k} class="badge tag">${k}=${v}</span> `)}</td>
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
