/**
 * The benchmark's text output: the aligned table on stdout (one row per target
 * and figure: median, min–max, unit, durability), the JSON array of `--json`,
 * the ratios the workload states its figures in, and the side-by-side
 * Markdown table of the docs (a row per figure, a column per target).
 * @example
 * process.stdout.write(formatTable(entries, 3));
 */
import { FIGURES, QUEUE_SETTING_RUNS, TOPIC_RUNS, type FigureSpec } from '../workloads/catalog.ts';
import type { ReportEntry } from './results.ts';

/** What each figure measures, for the docs table. */
export const FIGURE_LABELS: Readonly<Record<string, string>> = {
  W1: 'enqueue-single',
  'W1-topic': 'W1 as publishes to a topic bound to one queue',
  'W1-fanout10': 'W1 as publishes fanned out to ten queues (copies/s)',
  W2: 'enqueue-bulk (batches of 1,000)',
  W3: 'drain 100,000, one worker',
  'W3-priority': 'W3, policy priority (three levels)',
  'W3-sjf': 'W3, policy sjf (costs 1–100 ms)',
  'W3-fair': 'W3, policy fair (ten groups)',
  'W3-rate': 'W3, rate limit 1,000,000/s (not binding)',
  'W3-keyed': 'W3, per-key limit 1,000, ten keys (not binding)',
  'W3-2w': 'drain 100,000, two worker processes',
  'W4-p50': 'add→handler-start p50',
  'W4-p90': 'add→handler-start p90',
  'W4-p99': 'add→handler-start p99',
  'W4-max': 'add→handler-start max',
  'W4-noisy-p50': 'W4 beside a CPU-bound process, p50',
  'W4-noisy-p90': 'W4 beside a CPU-bound process, p90',
  'W4-noisy-p99': 'W4 beside a CPU-bound process, p99',
  'W4-noisy-max': 'W4 beside a CPU-bound process, max',
  'W5-10k': 'drain, backlog 10,000',
  'W5-100k': 'drain, backlog 100,000',
  'W5-300k': 'drain, backlog 300,000',
  'W5-1m': 'drain, backlog 1,000,000',
  'W6-10k': 'peak RSS, backlog 10,000',
  'W6-100k': 'peak RSS, backlog 100,000',
  'W6-300k': 'peak RSS, backlog 300,000',
  W6: 'peak RSS, backlog 1,000,000',
  W7: 'mixed: completed in the window',
  'W7-p99': 'mixed: add→completion p99',
  'W7-rate': 'mixed: the rate offered (70 % of W3)',
  'C1000-rss': 'broker RSS, 1,000 idle sessions',
  'SQS-sdk': 'SQS loop, AWS SDK (send 10, receive 10, delete 10)',
  'SQS-ws': 'the same loop, WebSocket client',
};

/** Decimal places of a figure: the catalog's, or by unit for an id it does not know. */
function decimalsOf(entry: Pick<ReportEntry, 'workload' | 'unit'>): number {
  const spec: FigureSpec | undefined = FIGURES.find((f) => f.id === entry.workload);
  if (spec) return spec.decimals;
  return entry.unit === 'ms' ? 3 : entry.unit === 'MiB' ? 1 : 0;
}

/** Rounds to `decimals` places. */
export function round(value: number, decimals: number): number {
  const f = 10 ** decimals;
  return Math.round(value * f) / f;
}

/** A number with thousands separators and the figure's decimal places: `43,325`, `1.382`. */
export function formatNumber(value: number, decimals: number): string {
  const fixed = Math.abs(value).toFixed(decimals);
  const [whole, fraction] = fixed.split('.');
  const grouped = whole!.replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  return `${value < 0 && Number(fixed) !== 0 ? '-' : ''}${grouped}${fraction === undefined ? '' : `.${fraction}`}`;
}

/** A figure's value as the report prints it. */
export function formatFigure(entry: Pick<ReportEntry, 'workload' | 'unit'>, value: number): string {
  return formatNumber(value, decimalsOf(entry));
}

/** The JSON of `--json`: the array of entries, each with exactly the fields docs/benchmarks.md names, in its order. */
export function formatJson(entries: readonly ReportEntry[]): string {
  const plain = entries.map(({ target, workload, value, min, max, unit, durability }) => ({ target, workload, value, min, max, unit, durability }));
  return `${JSON.stringify(plain, null, 2)}\n`;
}

/** The ratios the workload states: W5 at 1,000,000 over 10,000, two worker processes over one, each W3 variant over W3; and a target over its variant without metrics. */
export function ratioLines(entries: readonly ReportEntry[]): string[] {
  const out: string[] = [];
  for (const target of new Set(entries.map((e) => e.target))) {
    const value = (id: string): number | undefined => entries.find((e) => e.target === target && e.workload === id)?.value;
    const small = value('W5-10k');
    const large = value('W5-1m');
    if (small && large) out.push(`${target} W5 ratio (1,000,000 / 10,000 backlog): ${(large / small).toFixed(2)}`);
    const one = value('W3');
    const two = value('W3-2w');
    if (one && two) out.push(`${target} W3-2w / W3 (two worker processes / one): ${(two / one).toFixed(2)}`);
    // What a CPU-bound neighbour does to the tail, and whether W7's workers kept up with the rate offered.
    const quiet = value('W4-p99');
    const noisy = value('W4-noisy-p99');
    if (quiet && noisy) out.push(`${target} W4-noisy-p99 / W4-p99 (beside a CPU-bound process / alone): ${(noisy / quiet).toFixed(2)}`);
    const offered = value('W7-rate');
    const w7 = value('W7');
    if (offered && w7 !== undefined) out.push(`${target} W7 / W7-rate (completed / offered): ${(w7 / offered).toFixed(2)}`);
    // The W3 variants against W3 of the same run: what a policy or a limit costs the drain.
    for (const { run, bar } of QUEUE_SETTING_RUNS) {
      const variant = value(run);
      if (!one || !variant) continue;
      const ratio = variant / one;
      out.push(`${target} ${run} / W3: ${ratio.toFixed(3)} (bar ≥ ${bar.toFixed(2)}: ${ratio >= bar ? 'met' : 'missed'})`);
    }
    // The topic runs against W1 of the same run: what routing costs an add, per copy written.
    const w1 = value('W1');
    for (const { run, bar } of TOPIC_RUNS) {
      const topic = value(run);
      if (!w1 || !topic) continue;
      const ratio = topic / w1;
      out.push(`${target} ${run} / W1 (jobs written per second): ${ratio.toFixed(3)} (bar ≥ ${bar.toFixed(2)}: ${ratio >= bar ? 'met' : 'missed'})`);
    }
    // The SQS endpoint's loop: at least 5,000 messages/s through the AWS SDK, and half the same loop through the WebSocket client.
    const sdk = value('SQS-sdk');
    const ws = value('SQS-ws');
    if (sdk && ws) {
      out.push(`${target} SQS-sdk / SQS-ws: ${(sdk / ws).toFixed(3)} (bar ≥ 0.50: ${sdk / ws >= 0.5 ? 'met' : 'missed'}); SQS-sdk ${Math.round(sdk)} messages/s (bar ≥ 5,000: ${sdk >= 5000 ? 'met' : 'missed'})`);
    }
    // A target measured beside its variant without metrics: what serving /metrics costs, per throughput figure.
    for (const e of entries) {
      // W7-rate is the rate offered, not a throughput: there is no cost to read in it.
      if (e.target !== target || e.unit !== 'jobs/s' || e.workload === 'W7-rate') continue;
      const without = entries.find((x) => x.target === `${target}-nometrics` && x.workload === e.workload)?.value;
      if (without) out.push(`${target} ${e.workload} with /metrics / without (${target}-nometrics): ${(e.value / without).toFixed(3)}, a cost of ${((1 - e.value / without) * 100).toFixed(1)} %`);
    }
  }
  return out;
}

/**
 * The human report: one aligned row per target and figure (median of the runs,
 * min–max, unit, durability), then the ratios and any further lines (the bars).
 */
export function formatTable(entries: readonly ReportEntry[], runs: number, after: readonly string[] = []): string {
  const header = ['target', 'workload', `median of ${runs}`, 'min–max', 'unit', 'durability'];
  const rows = entries.map((e) => [e.target, e.workload, formatFigure(e, e.value), `${formatFigure(e, e.min)}–${formatFigure(e, e.max)}`, e.unit, e.durability]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const numeric = new Set([2, 3]);
  const line = (cells: string[]): string => cells.map((c, i) => (numeric.has(i) ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join('  ').trimEnd();
  const out = [line(header), line(widths.map((w) => '-'.repeat(w)))];
  let previous: string | null = null;
  for (const [i, row] of rows.entries()) {
    // A blank line between targets keeps a long table readable.
    if (previous !== null && entries[i]!.target !== previous) out.push('');
    previous = entries[i]!.target;
    out.push(line(row));
  }
  const extra = [...ratioLines(entries), ...after];
  if (extra.length > 0) out.push('', ...extra);
  return `${out.join('\n')}\n`;
}

/** The targets of `entries`, in the order they first appear. */
export function targetsOf(entries: readonly ReportEntry[]): string[] {
  return [...new Set(entries.map((e) => e.target))];
}

/** Escapes a table cell's `|`. */
function cell(text: string): string {
  return text.replaceAll('|', '\\|');
}

/**
 * The docs' side-by-side table: a row per figure (catalog order, then any
 * other), a column per target; each cell the median with min–max under it, `—`
 * where the target has no such figure; last, a row with each target's durability.
 */
export function markdownTable(entries: readonly ReportEntry[], runs: number): string {
  const targets = targetsOf(entries);
  const known = FIGURES.map((f) => f.id);
  const ids = [...new Set(entries.map((e) => e.workload))].sort((a, b) => {
    const ia = known.indexOf(a);
    const ib = known.indexOf(b);
    return (ia < 0 ? Infinity : ia) - (ib < 0 ? Infinity : ib);
  });
  const lines = [
    `| figure | unit | ${targets.map(cell).join(' | ')} |`,
    `|---|---|${targets.map(() => '---:').join('|')}|`,
  ];
  for (const id of ids) {
    const unit = entries.find((e) => e.workload === id)!.unit;
    const label = FIGURE_LABELS[id];
    const cells = targets.map((t) => {
      const e = entries.find((x) => x.target === t && x.workload === id);
      if (!e) return '—';
      return runs > 1 ? `${formatFigure(e, e.value)}<br><sub>${formatFigure(e, e.min)}–${formatFigure(e, e.max)}</sub>` : formatFigure(e, e.value);
    });
    lines.push(`| ${cell(label ? `${id} ${label}` : id)} | ${cell(unit)} | ${cells.join(' | ')} |`);
  }
  const durability = targets.map((t) => cell(entries.find((e) => e.target === t)!.durability));
  lines.push(`| durability | | ${durability.join(' | ')} |`);
  return lines.join('\n');
}
