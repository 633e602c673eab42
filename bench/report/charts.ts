/**
 * The report's charts, as Vega-Lite specifications rendered to SVG headlessly
 * (Vega's `renderer: 'none'` view, no browser and no canvas):
 *
 * - `throughput`: W1, W2, W3 per target, grouped bars with the runs' min–max;
 * - `latency`: W4 p50, p90, p99 and max per target (log scale), median and min–max;
 * - `latency-spectrum`: W4's add→handler-start over all runs of each target (the
 *   merged HDR histograms) by percentile, 0% to 99.99% and the maximum;
 * - `scaling`: the W5-scale view, drain rate and peak RSS against the backlog
 *   (10,000 to 1,000,000), a line per target.
 *
 * A chart is only made when its figures are there (see {@link chartSpecs}).
 * Every chart colours a target the same way.
 * @example
 * const specs = chartSpecs(results);
 * const svg = await renderSvg(specs[0]!.spec);
 */
import * as vega from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';
import { SCALE_POINTS } from '../workloads/catalog.ts';
import { LatencyHistogram } from './histogram.ts';
import type { BenchResults, ReportEntry } from './results.ts';
import { targetsOf } from './table.ts';

/** One chart of the report. */
export interface ChartSpec {
  /** File name without extension, e.g. `throughput`. */
  name: string;
  /** Alternative text and caption. */
  title: string;
  spec: TopLevelSpec;
}

/** A colour per known target (Spool's in blues and teal, the peers' in warm colours); others get the rest. */
const TARGET_COLORS: Readonly<Record<string, string>> = {
  'spool-embedded': '#1f4e9c',
  'spool-server': '#4c8ed9',
  'spool-postgres': '#17a3a3',
  bullmq: '#d62728',
  'pg-boss': '#8c564b',
  rabbitmq: '#ff7f0e',
  nats: '#9467bd',
};
const SPARE_COLORS = ['#2ca02c', '#e377c2', '#7f7f7f', '#bcbd22', '#17becf'];

/** The colour scale shared by every chart: the targets in report order. */
function colorScale(targets: readonly string[]): { domain: string[]; range: string[] } {
  let spare = 0;
  return {
    domain: [...targets],
    range: targets.map((t) => TARGET_COLORS[t] ?? SPARE_COLORS[spare++ % SPARE_COLORS.length]!),
  };
}

const SCHEMA = 'https://vega.github.io/schema/vega-lite/v6.json';
const FONT = 'Helvetica, Arial, sans-serif';
const CONFIG = {
  font: FONT,
  background: 'white',
  view: { stroke: null },
  axis: { labelFontSize: 11, titleFontSize: 12, gridColor: '#e6e6e6' },
  legend: { labelFontSize: 11, titleFontSize: 12, orient: 'right' },
  title: { fontSize: 14, anchor: 'start', subtitleColor: '#555' },
} as const;

const THROUGHPUT_LABELS: Readonly<Record<string, string>> = {
  W1: 'W1 enqueue-single',
  W2: 'W2 enqueue-bulk',
  W3: 'W3 drain',
};

/** The width of a chart of `groups` groups of one mark per target: about 20 px a mark, at least 360. */
function groupedWidth(groups: number, targets: number): number {
  return Math.max(360, groups * (targets * 20 + 30));
}

function runsNote(results: Pick<BenchResults, 'runs' | 'quick'>): string {
  const of = results.runs > 1 ? `median of ${results.runs} runs, rule: min–max` : 'one run';
  return results.quick ? `${of}; --quick smoke sizes, not for publication` : of;
}

/** W1–W3 grouped bars: a group per workload, a bar per target, a rule for the runs' min–max. */
export function throughputSpec(results: Pick<BenchResults, 'entries' | 'runs' | 'quick'>): TopLevelSpec | null {
  const rows = results.entries.filter((e) => e.workload in THROUGHPUT_LABELS).map((e) => ({ ...e, label: THROUGHPUT_LABELS[e.workload] }));
  if (rows.length === 0) return null;
  const targets = targetsOf(rows);
  const x = { field: 'label', type: 'nominal', title: null, sort: Object.values(THROUGHPUT_LABELS), axis: { labelAngle: 0 } } as const;
  const xOffset = { field: 'target', type: 'nominal', sort: targets } as const;
  return {
    $schema: SCHEMA,
    title: { text: 'Throughput', subtitle: `jobs/s, higher is better (${runsNote(results)})` },
    width: groupedWidth(3, targets.length),
    height: 260,
    data: { values: rows },
    encoding: { x, xOffset },
    layer: [
      {
        mark: { type: 'bar', tooltip: true },
        encoding: {
          y: { field: 'value', type: 'quantitative', title: 'jobs/s', axis: { format: '~s' } },
          color: { field: 'target', type: 'nominal', title: 'target', scale: colorScale(targets), sort: targets },
        },
      },
      {
        mark: { type: 'rule', color: '#222', strokeWidth: 1.2 },
        encoding: { y: { field: 'min', type: 'quantitative' }, y2: { field: 'max' } },
      },
    ],
    config: CONFIG,
  } as TopLevelSpec;
}

const LATENCY_FIGURES = ['W4-p50', 'W4-p90', 'W4-p99', 'W4-max'] as const;

/** W4 percentiles: a point per target and percentile (median of the runs) with its min–max, log scale. */
export function latencySpec(results: Pick<BenchResults, 'entries' | 'runs' | 'quick'>): TopLevelSpec | null {
  const rows = results.entries
    .filter((e) => (LATENCY_FIGURES as readonly string[]).includes(e.workload) && e.value > 0)
    .map((e) => ({ ...e, percentile: e.workload.slice(3), low: Math.max(e.min, 0.001) }));
  if (rows.length === 0) return null;
  const targets = targetsOf(rows);
  const y = { type: 'quantitative', scale: { type: 'log' }, title: 'ms (log scale)' } as const;
  return {
    $schema: SCHEMA,
    title: { text: 'W4 latency, add() → handler start', subtitle: `1,000 jobs/s for ${results.quick ? 1 : 10} s; ms, lower is better (${runsNote(results)})` },
    width: groupedWidth(4, targets.length),
    height: 260,
    data: { values: rows },
    encoding: {
      x: { field: 'percentile', type: 'nominal', sort: ['p50', 'p90', 'p99', 'max'], title: null, axis: { labelAngle: 0 } },
      xOffset: { field: 'target', type: 'nominal', sort: targets },
      color: { field: 'target', type: 'nominal', title: 'target', scale: colorScale(targets), sort: targets },
    },
    layer: [
      { mark: { type: 'rule', strokeWidth: 1.5 }, encoding: { y: { ...y, field: 'low' }, y2: { field: 'max' } } },
      { mark: { type: 'point', filled: true, size: 60, opacity: 1, tooltip: true }, encoding: { y: { ...y, field: 'value' } } },
    ],
    config: CONFIG,
  } as TopLevelSpec;
}

/**
 * The latency spectrum of merged histograms: latency against percentile, the
 * percentile axis stretched as 1 / (1 − p) so that 90%, 99%, 99.9% are evenly
 * spaced; the maximum is plotted at n (= 1 / (1 − (n − 1) / n), the last of n
 * samples), and finer percentiles than that are left out.
 */
export function spectrumSpec(results: Pick<BenchResults, 'histograms' | 'runs' | 'quick'>, id = 'W4'): TopLevelSpec | null {
  const rows: { target: string; x: number; percentile: string; ms: number }[] = [];
  for (const [target, byId] of Object.entries(results.histograms)) {
    const encoded = byId[id];
    if (!encoded) continue;
    const h = LatencyHistogram.decode(encoded);
    // Percentiles finer than one sample in `count` say nothing more than the max: they stop before it.
    const last = Math.max(h.count, 2);
    for (const point of h.spectrum()) {
      const x = point.percentile === 100 ? last : 1 / (1 - point.percentile / 100);
      if (point.percentile < 100 && x >= last) continue;
      rows.push({ target, x, percentile: point.percentile === 100 ? 'max' : `${+point.percentile.toFixed(4)}%`, ms: Math.max(point.ms, 0.001) });
    }
  }
  if (rows.length === 0) return null;
  const targets = [...new Set(rows.map((r) => r.target))];
  return {
    $schema: SCHEMA,
    title: {
      text: `${id} latency by percentile, all runs together`,
      subtitle: `merged HDR histograms (${results.runs > 1 ? `${results.runs} runs` : 'one run'} per target); the last point of each line is its maximum`,
    },
    width: 520,
    height: 280,
    data: { values: rows },
    mark: { type: 'line', point: { filled: true, size: 18 }, interpolate: 'step-after', tooltip: true },
    encoding: {
      x: {
        field: 'x',
        type: 'quantitative',
        scale: { type: 'log', domainMin: 1 },
        title: 'percentile',
        axis: {
          values: [2, 10, 100, 1_000, 10_000, 100_000],
          labelExpr: "datum.value == 2 ? '50%' : datum.value == 10 ? '90%' : datum.value == 100 ? '99%' : datum.value == 1000 ? '99.9%' : datum.value == 10000 ? '99.99%' : '99.999%'",
        },
      },
      y: { field: 'ms', type: 'quantitative', scale: { type: 'log' }, title: 'ms (log scale)' },
      color: { field: 'target', type: 'nominal', title: 'target', scale: colorScale(targets), sort: targets },
      detail: { field: 'target' },
    },
    config: CONFIG,
  } as TopLevelSpec;
}

/** The scaling view: drain rate and peak RSS against the backlog, a line per target, side by side. */
export function scalingSpec(results: Pick<BenchResults, 'entries' | 'runs' | 'quick'>): TopLevelSpec | null {
  const rows: { target: string; backlog: number; measure: string; value: number; min: number; max: number }[] = [];
  for (const e of results.entries) {
    for (const point of SCALE_POINTS) {
      if (e.workload === point.rate) rows.push({ target: e.target, backlog: point.backlog, measure: 'rate', value: e.value, min: e.min, max: e.max });
      if (e.workload === point.rss) rows.push({ target: e.target, backlog: point.backlog, measure: 'rss', value: e.value, min: e.min, max: e.max });
    }
  }
  // A line needs two sizes: without the middle sizes (W5-scale) W5 and W6 alone do not make the view.
  const sizes = new Set(rows.map((r) => r.backlog));
  if (sizes.size < 3) return null;
  const targets = targetsOf(rows.map((r) => ({ target: r.target }) as ReportEntry));
  const color = { field: 'target', type: 'nominal', title: 'target', scale: colorScale(targets), sort: targets, legend: { orient: 'bottom', direction: 'horizontal' } } as const;
  const x = {
    field: 'backlog',
    type: 'quantitative',
    scale: { type: 'log' },
    title: 'backlog (jobs, log scale)',
    axis: { values: SCALE_POINTS.map((p) => p.backlog), format: '~s' },
  } as const;
  const panel = (measure: 'rate' | 'rss', title: string, yTitle: string): object => ({
    title,
    width: 300,
    height: 240,
    transform: [{ filter: `datum.measure == '${measure}'` }],
    encoding: { x, color },
    layer: [
      {
        mark: { type: 'line', point: { filled: true, size: 50 }, tooltip: true },
        encoding: { y: { field: 'value', type: 'quantitative', title: yTitle, scale: { zero: true }, axis: { format: '~s' } } },
      },
      { mark: { type: 'rule', strokeWidth: 1.2 }, encoding: { y: { field: 'min', type: 'quantitative' }, y2: { field: 'max' } } },
    ],
  });
  return {
    $schema: SCHEMA,
    title: { text: 'W5 / W6 as the backlog grows', subtitle: `drain of a ready backlog by one worker of concurrency 64 (${runsNote(results)})` },
    data: { values: rows },
    hconcat: [panel('rate', 'drain rate (higher is better)', 'jobs/s'), panel('rss', 'broker / engine peak RSS (lower is better)', 'MiB')],
    resolve: { scale: { color: 'shared' } },
    config: CONFIG,
  } as TopLevelSpec;
}

/** Every chart the results have figures for, in report order. */
export function chartSpecs(results: BenchResults): ChartSpec[] {
  const out: ChartSpec[] = [];
  const add = (name: string, title: string, spec: TopLevelSpec | null): void => void (spec && out.push({ name, title, spec }));
  add('throughput', 'W1–W3 throughput per target', throughputSpec(results));
  add('latency', 'W4 latency percentiles per target', latencySpec(results));
  add('latency-spectrum', 'W4 latency by percentile, all runs merged', spectrumSpec(results));
  add('scaling', 'W5 drain rate and W6 peak RSS against the backlog', scalingSpec(results));
  return out;
}

/** Renders a Vega-Lite specification to an SVG document, headlessly. */
export async function renderSvg(spec: TopLevelSpec): Promise<string> {
  const view = new vega.View(vega.parse(compile(spec).spec), { renderer: 'none', logLevel: vega.Warn });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}
