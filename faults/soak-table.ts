/** The soak's results as two Markdown tables: one row per deployment, one per watched process. */
import type { SoakResult } from './soak.ts';

const row = (cells: string[]) => `| ${cells.join(' | ')} |`;
const table = (header: string[], rows: string[][]) => [row(header), row(header.map(() => '---')), ...rows.map(row)].join('\n');
const ms = (v: number | null) => (v === null ? '–' : String(Math.round(v)));

export function soakTables(results: readonly SoakResult[]): string {
  const summary = results.map((r) => {
    const kinds = new Map<string, number>();
    for (const f of r.faults) kinds.set(f.kind, (kinds.get(f.kind) ?? 0) + 1);
    const worst = (back: (number | null)[]) => (back.some((b) => b === null) ? 'never (some)' : back.length ? ms(Math.max(...(back as number[]))) : '–');
    const checker = `${r.errors.length ? `run failed: ${r.errors[0]!.split('\n')[0]}; checker: ` : ''}${!r.report ? 'not run' : r.report.ok ? `ok (${r.report.counts.acknowledgedAdds} adds, 0 lost)` : `FAIL: ${r.report.reasons.join('; ')}`}`;
    return [
      r.deployment,
      `${r.peak.toFixed(0)}`,
      String(r.rate),
      String(r.minutes),
      r.faults.length ? `${r.faults.length} (${[...kinds].map(([k, n]) => `${n} ${k}`).join(', ')})` : '0',
      ms(r.latency.baselineMs),
      ms(r.latency.boundMs),
      `${worst(r.latency.back)} (${worst(r.latency.backFromStrike)})`,
      checker,
      r.ok ? 'ok' : 'FAIL',
    ];
  });
  const procs = results.flatMap((r) => r.processes.map((p) => {
    const f = p.flat;
    return [
      r.deployment,
      p.proc,
      p.note,
      f ? f.rssStartMb.toFixed(1) : '–',
      f ? f.rssEndMb.toFixed(1) : '–',
      f ? f.rssSlopeMbPerMin.toFixed(2) : '–',
      f ? `${f.fdsStart} → ${f.fdsEnd}` : '–',
      !p.judged ? 'not judged' : f?.ok ? 'flat' : `FAIL: ${f?.reasons.join('; ') ?? 'no samples'}`,
    ];
  }));
  return [
    table(['deployment', 'peak (acks/s)', 'rate used (adds/s)', 'minutes', 'faults', 'baseline p99 (ms)', 'normal ≤ (ms)', 'max back to normal, ms from the fault\'s end (from its strike)', 'checker', 'verdict'], summary),
    '',
    table(['deployment', 'process', 'span', 'RSS start (MB)', 'RSS end (MB)', 'RSS slope, 2nd half (MB/min)', 'open fds start → end', 'verdict'], procs),
  ].join('\n');
}
