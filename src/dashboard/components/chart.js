// A queue's recent past as a uPlot chart: ready and active jobs (left axis) and the arrival
// and completion rates λ and μ (right axis, per second). uPlot draws on a canvas, so the
// chart is an image to screen readers, labelled with the latest values; the table beside
// it has every number.
import uPlot from 'uplot';
import { useEffect, useRef } from 'preact/hooks';
import { html } from '../lib/html.js';
import { rate } from '../lib/format.js';

const HEIGHT = 160;
const JOB_STEPS = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1e3, 2e3, 5e3, 1e4, 2e4, 5e4, 1e5, 2e5, 5e5, 1e6, 1e7, 1e8];

/** A colour from the stylesheet, so the chart follows the light or dark theme. @param {string} name */
const color = (name) => getComputedStyle(document.documentElement).getPropertyValue(name).trim() || '#888';

/** @param {number} width @returns {uPlot.Options} */
function options(width) {
  const axis = color('--text-muted');
  const grid = color('--grid');
  return {
    width,
    height: HEIGHT,
    ms: 1,
    cursor: { drag: { x: false, y: false } },
    // Labels only: the values are in the table, and a one-line legend keeps the cards small.
    legend: { live: false },
    scales: { x: { time: true }, jobs: { range: (_u, _min, max) => [0, Math.max(1, max)] }, rate: { range: (_u, _min, max) => [0, Math.max(0.1, max)] } },
    axes: [
      { stroke: axis, grid: { stroke: grid, width: 1 }, ticks: { stroke: grid } },
      // Jobs are whole: no 0.5 ticks.
      { scale: 'jobs', stroke: axis, grid: { stroke: grid, width: 1 }, ticks: { stroke: grid }, size: 44, incrs: JOB_STEPS },
      { scale: 'rate', side: 1, stroke: axis, grid: { show: false }, ticks: { stroke: grid }, size: 44, values: (_u, splits) => splits.map((v) => `${rate(v)}/s`) },
    ],
    series: [
      {},
      { label: 'ready', scale: 'jobs', stroke: color('--chart-ready'), width: 2 },
      { label: 'active', scale: 'jobs', stroke: color('--chart-active'), width: 2 },
      { label: 'λ added/s', scale: 'rate', stroke: color('--chart-in'), width: 1.5, dash: [4, 3] },
      { label: 'μ completed/s', scale: 'rate', stroke: color('--chart-out'), width: 1.5, dash: [1, 2] },
    ],
  };
}

/** @param {import('../lib/live.js').Series} s @returns {uPlot.AlignedData} */
const dataOf = (s) => [s.at, s.ready, s.active, s.arrivalRate, s.completionRate];

/**
 * @param {{ queue: string, series: import('../lib/live.js').Series | undefined, version: number }} props
 */
export function QueueChart({ queue, series, version }) {
  const box = useRef(/** @type {HTMLDivElement | null} */ (null));
  const plot = useRef(/** @type {uPlot | null} */ (null));

  useEffect(() => {
    const el = box.current;
    if (!el) return;
    const make = () => {
      plot.current?.destroy();
      plot.current = new uPlot(options(Math.max(200, el.clientWidth)), series ? dataOf(series) : [[], [], [], [], []], el);
    };
    make();
    // Follow the container's width, and the theme when the system switches it.
    const resize = new ResizeObserver(() => plot.current?.setSize({ width: Math.max(200, el.clientWidth), height: HEIGHT }));
    resize.observe(el);
    const scheme = matchMedia('(prefers-color-scheme: dark)');
    scheme.addEventListener('change', make);
    return () => {
      resize.disconnect();
      scheme.removeEventListener('change', make);
      plot.current?.destroy();
      plot.current = null;
    };
  }, []);

  useEffect(() => {
    if (plot.current && series) plot.current.setData(dataOf(series));
  }, [version]);

  const n = series?.at.length ?? 0;
  const last = (/** @type {number[] | undefined} */ a) => (a && a.length ? a[a.length - 1] : null);
  const label = n
    ? `Chart of queue ${queue}: ${n} points; now ${last(series?.ready)} ready, ${last(series?.active)} active, λ ${rate(last(series?.arrivalRate))}/s, μ ${rate(last(series?.completionRate))}/s`
    : `Chart of queue ${queue}: no data yet`;
  return html`<div class="chart" role="img" aria-label=${label} data-points=${n} ref=${box}></div>`;
}
