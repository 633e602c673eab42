/**
 * The targets Spool set itself against its peers, checked on the figures of one run:
 * each line compares a Spool figure with its peers' in the same run, and is
 * left out when a figure it needs is missing (a target or workload not run).
 * @example
 * checkBars(entries); // [{ bar: 'spool-embedded W3 ≥ 2 × bullmq W3', measured: '…', met: true, … }]
 */
import { formatFigure } from './table.ts';
import type { ReportEntry } from './results.ts';

/** One bar and how the run measured against it. */
export interface BarCheck {
  /** The bar, e.g. `spool-server W3 ≥ best W3 of bullmq, rabbitmq, nats`. */
  bar: string;
  /** The figures compared, e.g. `43,325 vs 2 × 19,000 = 38,000 jobs/s`. */
  measured: string;
  met: boolean;
  /** Spool's figure over the bar's threshold (≥ 1 when met; for latency, the threshold over Spool's). */
  margin: number;
}

interface BarSpec {
  spool: string;
  peers: readonly string[];
  workload: string;
  /** Spool's figure must be at least `factor` × the best peer's (throughput), or at most the peer's (latency). */
  factor: number;
  lowerIsBetter?: boolean;
}

/** The targets, in order. */
export const BARS: readonly BarSpec[] = [
  { spool: 'spool-embedded', peers: ['bullmq'], workload: 'W3', factor: 2 },
  { spool: 'spool-server', peers: ['bullmq', 'rabbitmq', 'nats'], workload: 'W3', factor: 1 },
  { spool: 'spool-postgres', peers: ['pg-boss'], workload: 'W3', factor: 4 },
  { spool: 'spool-server', peers: ['bullmq'], workload: 'W4-p99', factor: 1, lowerIsBetter: true },
];

/** The bars whose figures are all in `entries`, measured. */
export function checkBars(entries: readonly ReportEntry[]): BarCheck[] {
  const find = (target: string, workload: string): ReportEntry | undefined => entries.find((e) => e.target === target && e.workload === workload);
  const out: BarCheck[] = [];
  for (const spec of BARS) {
    const mine = find(spec.spool, spec.workload);
    const theirs = spec.peers.map((p) => find(p, spec.workload)).filter((e): e is ReportEntry => e !== undefined);
    if (!mine || theirs.length === 0) continue;
    const best = theirs.reduce((a, b) => (spec.lowerIsBetter ? (b.value < a.value ? b : a) : b.value > a.value ? b : a));
    const threshold = best.value * spec.factor;
    const met = spec.lowerIsBetter ? mine.value <= threshold : mine.value >= threshold;
    const margin = spec.lowerIsBetter ? threshold / mine.value : mine.value / threshold;
    const peersText = spec.peers.length > 1 ? `the best ${spec.workload} of ${spec.peers.join(', ')}` : `${spec.peers[0]} ${spec.workload}`;
    const relation = spec.lowerIsBetter ? '≤' : '≥';
    const factorText = spec.factor === 1 ? '' : `${spec.factor} × `;
    const fmt = (v: number): string => formatFigure(mine, v);
    out.push({
      bar: `${spec.spool} ${spec.workload} ${relation} ${factorText}${peersText}`,
      measured:
        `${fmt(mine.value)} vs ${factorText}${fmt(best.value)}${spec.peers.length > 1 ? ` (${best.target})` : ''}` +
        `${spec.factor === 1 ? '' : ` = ${fmt(threshold)}`} ${mine.unit}`,
      met,
      margin,
    });
  }
  return out;
}

/** One line per bar, for the text report. */
export function barLines(checks: readonly BarCheck[]): string[] {
  return checks.map((c) => `bar: ${c.bar}: ${c.measured}: ${c.met ? 'met' : 'missed'} (${c.margin.toFixed(2)}× the bar)`);
}
