// Every queue at a glance: counts per state and its live queueing model, then a chart per
// queue. Live: the broker pushes a new overview at most once a second.
import { html } from '../lib/html.js';
import { useLive } from '../lib/context.js';
import { count, duration, percent, rate, time } from '../lib/format.js';
import { ALL_QUEUES, to } from '../lib/route.js';
import { QueueChart } from '../components/chart.js';

/** @type {import('../types.js').JobState[]} */
const STATES = ['ready', 'scheduled', 'active', 'completed', 'dead', 'cancelled'];

export function OverviewView() {
  const live = useLive();
  const o = live.overview;
  if (!o) return html`<h1 tabindex="-1">Overview</h1><p aria-busy="true">Loading…</p>`;
  return html`
    <h1 tabindex="-1">Overview</h1>
    <div class="table-wrap">
      <table class="numbers" aria-describedby="overview-legend">
        <caption>Queues (${o.queues.length}), as of ${time(o.at)}</caption>
        <thead>
          <tr>
            <th scope="col">Queue</th>
            ${STATES.map((s) => html`<th scope="col" class="num"><abbr title=${`jobs ${s}`}>${s}</abbr></th>`)}
            <th scope="col" class="num"><abbr title="arrival rate λ: jobs added per second">λ/s</abbr></th>
            <th scope="col" class="num"><abbr title="completion rate μ: jobs completed per second">μ/s</abbr></th>
            <th scope="col" class="num"><abbr title="failed attempts per second">fail/s</abbr></th>
            <th scope="col" class="num"><abbr title="utilisation ρ = λ·S / c: the share of the workers' time the arrivals need">ρ</abbr></th>
            <th scope="col" class="num"><abbr title="L: jobs in the system (ready and active)">L</abbr></th>
            <th scope="col" class="num"><abbr title="W = L / λ: mean time from add to finish">W</abbr></th>
            <th scope="col" class="num"><abbr title="how long the oldest ready job has waited">oldest</abbr></th>
            <th scope="col" class="num"><abbr title="time to drain the ready jobs at the current rates">drain ETA</abbr></th>
          </tr>
        </thead>
        <tbody>
          ${o.queues.length === 0 ? html`<tr><td colspan="15">No queues yet: add a job (<code>spool add</code>, <code>queue.add()</code>) and it appears here.</td></tr>` : null}
          ${o.queues.map((q) => html`
            <tr key=${q.queue} data-queue=${q.queue}>
              <th scope="row"><a href=${to.queue(q.queue)}>${q.queue}</a>${q.paused ? html` <span class="badge paused">paused</span>` : null}${o.alerts
                .filter((a) => a.queue === q.queue && a.state === 'firing')
                .map((a) => html` <a key=${a.id} class="badge alert-firing" href=${to.alerts()} title=${`alert ${a.id} is firing`}>⚠ ${a.id}</a>`)}</th>
              ${STATES.map((s) => html`<td class="num" data-count=${s}>${q.counts[s] ? html`<a href=${to.jobs({ queue: q.queue, state: s })} aria-label=${`${count(q.counts[s])} ${s} jobs in ${q.queue}`}>${count(q.counts[s])}</a>` : '0'}</td>`)}
              <td class="num">${rate(q.model.arrivalRate)}</td>
              <td class="num">${rate(q.model.completionRate)}</td>
              <td class=${`num${q.model.failureRate > 0 ? ' warn' : ''}`}>${rate(q.model.failureRate)}</td>
              <td class=${`num${(q.model.utilisation ?? 0) > 0.9 ? ' warn' : ''}`}>${percent(q.model.utilisation)}</td>
              <td class="num">${count(q.model.length)}</td>
              <td class="num">${duration(q.model.meanWaitMs)}</td>
              <td class="num">${q.oldestReadyAgeMs ? duration(q.oldestReadyAgeMs) : '–'}</td>
              <td class="num">${q.model.drainEtaMs === 0 ? 'now' : duration(q.model.drainEtaMs)}</td>
            </tr>`)}
        </tbody>
      </table>
    </div>
    <p id="overview-legend" class="note">
      Rates are measured over a sliding window, over every broker and process sharing the store (${o.queues[0] ? duration(o.queues[0].model.windowMs) : '–'});
      ρ needs connected workers; W follows from Little's law (L = λ·W); a dash means too little data to say.
    </p>
    ${o.queues.length
      ? html`<p class="across">Across every queue: <a href=${to.jobs({ queue: ALL_QUEUES, state: 'dead' })}>${count(o.queues.reduce((n, q) => n + q.counts.dead, 0))} dead jobs</a> · <a href=${to.jobs({ queue: ALL_QUEUES })}>all jobs</a></p>`
      : null}
    <section aria-labelledby="charts-title">
      <h2 id="charts-title">Over time</h2>
      <div class="charts">
        ${o.queues.map((q) => html`
          <figure key=${q.queue} class="card">
            <figcaption><a href=${to.queue(q.queue)}>${q.queue}</a></figcaption>
            <${QueueChart} queue=${q.queue} series=${live.series.get(q.queue)} version=${live.version} />
          </figure>`)}
      </div>
    </section>`;
}
