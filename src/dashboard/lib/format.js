// How numbers, times and durations read on the page: short, and the same everywhere.

const nf = new Intl.NumberFormat(undefined, { maximumFractionDigits: 0 });
const rf = new Intl.NumberFormat(undefined, { maximumFractionDigits: 2, minimumFractionDigits: 0 });

/** @param {number | null | undefined} n */
export const count = (n) => (n === null || n === undefined ? '–' : nf.format(n));

/** A rate per second. @param {number | null | undefined} r */
export const rate = (r) => (r === null || r === undefined ? '–' : rf.format(r));

/** A share (ρ) as a percentage. @param {number | null | undefined} r */
export const percent = (r) => (r === null || r === undefined ? '–' : `${Math.round(r * 100)}%`);

/**
 * A duration: 850 ms, 12.3 s, 4m 05s, 2h 10m, 3d 4h.
 * @param {number | null | undefined} ms
 */
export function duration(ms) {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return '–';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const s = ms / 1000;
  if (s < 60) return `${s.toFixed(s < 10 ? 1 : 0)} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m ${String(Math.floor(s % 60)).padStart(2, '0')}s`;
  const h = Math.floor(m / 60);
  if (h < 48) return `${h}h ${String(m % 60).padStart(2, '0')}m`;
  return `${Math.floor(h / 24)}d ${h % 24}h`;
}

/** Local date and time to the second, as the CLI prints it. @param {number | null | undefined} at */
export function time(at) {
  if (!at) return '–';
  const d = new Date(at);
  const p = (/** @type {number} */ n) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}

/** How long ago, from `now`. @param {number | null | undefined} at @param {number} now */
export const ago = (at, now) => (at ? `${duration(Math.max(0, now - at))} ago` : '–');

/** Any JSON value, indented. @param {unknown} v */
export const json = (v) => (v === undefined ? '' : JSON.stringify(v, null, 2));

/** The start of a job id, enough to tell jobs apart in a table. @param {string} id */
export const shortId = (id) => id.slice(0, 8) + '…' + id.slice(-4);
