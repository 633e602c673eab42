/**
 * The live overview. After `hello` and a `watch` frame on the broker's WebSocket, the broker
 * pushes `{op:'overview', value}` at most once a second; charts get their recent past once
 * from `GET /v1/overview?history=true`, then each pushed overview adds a point. The socket
 * reconnects by itself; a broker that does not know `watch` is polled over HTTP instead.
 */
import { api, storedToken } from './api.js';

/** How far back the charts go (the broker's history holds the last hour). */
const KEEP_MS = 60 * 60 * 1000;
const POLL_MS = 2000;

/**
 * @typedef {import('../types.js').Overview} Overview
 * @typedef {import('../types.js').OverviewHistory} OverviewHistory
 * @typedef {{ at: number[], ready: number[], active: number[], arrivalRate: number[], completionRate: number[], failureRate: number[] }} Series
 * @typedef {'connecting' | 'live' | 'polling' | 'offline'} LiveStatus
 */

export class LiveOverview {
  /** @type {Overview | null} the last one pushed or fetched */
  overview = null;
  /** @type {LiveStatus} */
  status = 'connecting';
  /** @type {string | null} why the last connection attempt failed */
  problem = null;
  /** @type {Map<string, Series>} per queue, oldest first */
  series = new Map();
  /** Bumped on every change, so views can depend on it. */
  version = 0;

  /** @type {Set<() => void>} */
  #listeners = new Set();
  /** @type {WebSocket | null} */
  #ws = null;
  #closed = false;
  #retryMs = 500;
  /** @type {ReturnType<typeof setTimeout> | null} */
  #timer = null;
  /** Request ids on the socket; the pending `watch`, until its answer or a first push. */
  #nextId = 1;
  /** @type {number | null} */
  #watchId = null;

  start() {
    void this.#loadHistory();
    this.#connect();
    document.addEventListener('visibilitychange', this.#onVisibility);
  }

  close() {
    this.#closed = true;
    if (this.#timer) clearTimeout(this.#timer);
    this.#ws?.close(1000, 'dashboard closed');
    document.removeEventListener('visibilitychange', this.#onVisibility);
  }

  /** @param {() => void} fn @returns {() => void} */
  subscribe(fn) {
    this.#listeners.add(fn);
    return () => this.#listeners.delete(fn);
  }

  /** Asks for a fresh overview now (after an action), without waiting for the next push. */
  async refresh() {
    try {
      this.#accept(await api.overview(false));
    } catch {
      // the next push or poll brings it
    }
  }

  #emit() {
    this.version++;
    for (const fn of this.#listeners) fn();
  }

  async #loadHistory() {
    try {
      const o = await api.overview(true);
      const h = o.history;
      if (h) {
        for (const [queue, points] of Object.entries(h.queues)) {
          const s = this.#seriesOf(queue);
          // Only what is older than the first live point: the two never overlap.
          const before = s.at[0] ?? Infinity;
          const n = h.at.findIndex((/** @type {number} */ at) => at >= before);
          const end = n === -1 ? h.at.length : n;
          for (const key of /** @type {const} */ (['ready', 'active', 'arrivalRate', 'completionRate', 'failureRate'])) s[key].unshift(...points[key].slice(0, end));
          s.at.unshift(...h.at.slice(0, end));
        }
      }
      this.#accept(o);
    } catch (err) {
      this.problem = /** @type {Error} */ (err).message;
      this.#emit();
    }
  }

  /** @param {string} queue @returns {Series} */
  #seriesOf(queue) {
    let s = this.series.get(queue);
    if (!s) this.series.set(queue, (s = { at: [], ready: [], active: [], arrivalRate: [], completionRate: [], failureRate: [] }));
    return s;
  }

  /** @param {Overview} o */
  #accept(o) {
    if (this.overview && o.at < this.overview.at) return;
    this.overview = o;
    for (const q of o.queues) {
      const s = this.#seriesOf(q.queue);
      if (s.at.length && s.at[s.at.length - 1] >= o.at) continue;
      s.at.push(o.at);
      s.ready.push(q.counts.ready);
      s.active.push(q.counts.active);
      s.arrivalRate.push(q.model.arrivalRate);
      s.completionRate.push(q.model.completionRate);
      s.failureRate.push(q.model.failureRate);
      const old = s.at.findIndex((at) => at >= o.at - KEEP_MS);
      if (old > 0) for (const key of /** @type {const} */ (['at', 'ready', 'active', 'arrivalRate', 'completionRate', 'failureRate'])) s[key].splice(0, old);
    }
    this.#emit();
  }

  /** @param {LiveStatus} status @param {string | null} [problem] */
  #setStatus(status, problem = null) {
    this.status = status;
    this.problem = problem;
    this.#emit();
  }

  #connect() {
    if (this.#closed) return;
    const url = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/v1/ws`;
    const ws = new WebSocket(url, 'spool.v1');
    this.#ws = ws;
    ws.onopen = () => {
      const token = storedToken();
      ws.send(JSON.stringify({ op: 'hello', v: 1, client: 'spool-dashboard', ...(token ? { token } : {}) }));
    };
    ws.onmessage = (event) => {
      const frame = JSON.parse(String(event.data));
      if (frame.op === 'welcome') {
        this.#retryMs = 500;
        if (document.visibilityState !== 'hidden') this.#watch(ws);
        this.#setStatus('live');
      } else if (frame.op === 'overview') {
        this.#watchId = null;
        this.#accept(frame.value);
      } else if (frame.op === 'ok' && frame.id === this.#watchId) {
        // The answer to watch is the overview now; pushes follow.
        this.#watchId = null;
        if (frame.result) this.#accept(frame.result);
      } else if (frame.op === 'error' && frame.id !== undefined && frame.id === this.#watchId) {
        // A broker without `watch`: ask over HTTP instead.
        ws.onclose = null;
        ws.close(1000, 'polling');
        this.#setStatus('polling', frame.error?.message ?? null);
        this.#poll();
      } else if (frame.op === 'error' && frame.id === undefined) {
        this.problem = frame.error?.message ?? null;
      }
    };
    ws.onclose = (event) => {
      if (this.#closed) return;
      if (event.code === 4401) window.dispatchEvent(new CustomEvent('spool:unauthorized'));
      this.#setStatus('offline', event.reason || this.problem || 'the connection to the broker closed');
      // Backoff with jitter, so many open dashboards do not all come back at once.
      this.#timer = setTimeout(() => this.#reconnect(), this.#retryMs * (0.5 + Math.random() / 2));
      this.#retryMs = Math.min(this.#retryMs * 2, 10_000);
    };
  }

  /** @param {WebSocket} ws */
  #watch(ws) {
    this.#watchId = this.#nextId++;
    ws.send(JSON.stringify({ op: 'watch', id: this.#watchId }));
  }

  #reconnect() {
    this.#setStatus('connecting', this.problem);
    void this.refresh();
    this.#connect();
  }

  #poll() {
    if (this.#closed) return;
    void this.refresh().finally(() => {
      this.#timer = setTimeout(() => this.#poll(), POLL_MS);
    });
  }

  #onVisibility = () => {
    // A hidden tab asks the broker for nothing; back in view, it asks again at once.
    const ws = this.#ws;
    if (this.status !== 'live' || !ws || ws.readyState !== WebSocket.OPEN) return;
    if (document.visibilityState === 'hidden') ws.send(JSON.stringify({ op: 'unwatch', id: this.#nextId++ }));
    else {
      this.#watch(ws);
      void this.refresh();
    }
  };
}
