/**
 * The scheduling simulation's report: replays one trace under every policy, measures the
 * mean and p99 wait (arrival → start) per class, sets the queueing-theory expectation beside
 * each mean, and checks what issue 15 asks of the policies.
 */
import { replay, type PolicyName, type PolicySettings, type Start } from './replay.ts';
import { expectations, traceMoments, type Theory } from './theory.ts';
import { makeTrace, NOISY_TENANT, type TraceJob, type TraceSpec } from './trace.ts';

export const POLICIES: readonly PolicyName[] = ['fifo', 'priority', 'sjf', 'fair'];

/** The settings of the published report: aging of 20 s per level, the default SJF cost factor. */
export const REPORT_SETTINGS: PolicySettings = { agingMs: 20_000, sjfCostFactor: 10 };

/** Mean and p99 wait of one class of jobs under one policy, in ms. */
export interface ClassFigures {
  label: string;
  jobs: number;
  meanMs: number;
  p99Ms: number;
  /** The expectation beside the mean, as printed (seconds), or '—'. */
  expected: string;
}

/** One check of the report. */
export interface Check {
  name: string;
  ok: boolean;
  detail: string;
}

export interface SimulationReport {
  spec: TraceSpec;
  settings: PolicySettings;
  theory: Theory;
  trace: readonly TraceJob[];
  figures: Record<PolicyName, ClassFigures[]>;
  checks: Check[];
}

const LEVELS = ['low (0)', 'mid (1)', 'high (2)'] as const;
const s = (ms: number): string => (ms / 1000).toFixed(1);

/** Nearest-rank percentile of `values` (not sorted in place). */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.max(0, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

const mean = (values: readonly number[]): number => values.reduce((a, b) => a + b, 0) / values.length;

/** The classes every policy is reported by, with their members. */
function classes(trace: readonly TraceJob[]): { label: string; jobs: TraceJob[] }[] {
  return [
    { label: 'all', jobs: [...trace] },
    { label: 'short', jobs: trace.filter((j) => j.size === 'short') },
    { label: 'long', jobs: trace.filter((j) => j.size === 'long') },
    ...LEVELS.map((label, p) => ({ label: `priority ${label}`, jobs: trace.filter((j) => j.priority === p) })),
    { label: `tenant ${NOISY_TENANT}`, jobs: trace.filter((j) => j.tenant === NOISY_TENANT) },
    { label: 'small tenants', jobs: trace.filter((j) => j.tenant !== NOISY_TENANT) },
  ];
}

/** The expectation printed beside a class's mean under a policy (seconds). */
function expected(policy: PolicyName, label: string, t: Theory): string {
  const level = LEVELS.findIndex((l) => label === `priority ${l}`);
  const sizeBlind = `${s(t.fcfs)} C`;
  switch (policy) {
    case 'fifo':
      if (level >= 0) return `${s(t.cobham[level]!)} Cobham`;
      if (label === 'small tenants') return `≈ ${s(t.fcfsSingle)} C`;
      return label === `tenant ${NOISY_TENANT}` ? '—' : sizeBlind;
    case 'priority':
      if (level === 2) return `${s(t.cobham[2])}–${s(t.fcfs)} A`;
      if (level >= 0) return `≤ ${s(t.agingBound[level]!)} A`;
      if (label === 'small tenants') return `≈ ${s(t.fcfsSingle)} C`;
      return label === `tenant ${NOISY_TENANT}` ? '—' : sizeBlind;
    case 'sjf':
      if (label === 'all') return `${s(t.sjf.all)}–${s(t.fcfs)} P`;
      if (label === 'short') return `${s(t.sjf.short)} P`;
      if (label === 'long') return `${s(t.sjf.long)} P`;
      // Levels are drawn independently of sizes: each has the mean over all jobs.
      return level >= 0 ? `${s(t.sjf.all)}–${s(t.fcfs)} P` : '—';
    case 'fair':
      if (label === 'small tenants') return `≈ ${s(t.fairSmall)} F`;
      return label === `tenant ${NOISY_TENANT}` ? '—' : sizeBlind;
  }
}

/**
 * Runs the whole report: draws the trace, replays it under each policy, measures and checks.
 * @example
 * const report = await simulate(REPORT_TRACE, REPORT_SETTINGS);
 * process.stdout.write(formatReport(report));
 */
export async function simulate(spec: TraceSpec, settings: PolicySettings, onPolicy?: (policy: PolicyName, ms: number) => void): Promise<SimulationReport> {
  const trace = makeTrace(spec);
  const theory = expectations(traceMoments(trace, spec), settings.agingMs);
  const figures = {} as Record<PolicyName, ClassFigures[]>;
  const starts = {} as Record<PolicyName, Start[]>;
  for (const policy of POLICIES) {
    const startedAt = performance.now();
    const got = await replay(trace, policy, spec.workers, settings);
    onPolicy?.(policy, performance.now() - startedAt);
    starts[policy] = got;
    figures[policy] = classes(trace).map(({ label, jobs }) => {
      const waits = jobs.map((j) => got[j.i]!.startMs - j.arrivalMs);
      return { label, jobs: jobs.length, meanMs: mean(waits), p99Ms: percentile(waits, 99), expected: expected(policy, label, theory) };
    });
  }
  return { spec, settings, theory, trace, figures, checks: checks(trace, starts, figures, settings, theory) };
}

function checks(trace: readonly TraceJob[], starts: Record<PolicyName, Start[]>, figures: Record<PolicyName, ClassFigures[]>, settings: PolicySettings, theory: Theory): Check[] {
  const get = (policy: PolicyName, label: string): ClassFigures => figures[policy].find((f) => f.label === label)!;
  const out: Check[] = [];
  const sjf = get('sjf', 'all').meanMs;
  const fifo = get('fifo', 'all').meanMs;
  out.push({ name: "SJF's mean wait ≤ FIFO's", ok: sjf <= fifo, detail: `sjf ${s(sjf)} s, fifo ${s(fifo)} s (all jobs)` });

  const aged = get('priority', `priority ${LEVELS[0]}`).p99Ms;
  const strict = get('fifo', `priority ${LEVELS[0]}`).p99Ms;
  out.push({ name: "aging bounds the lowest level's tail", ok: aged < strict, detail: `p99 of priority 0: ${s(aged)} s with agingMs ${settings.agingMs}, ${s(strict)} s without aging (fifo)` });
  const late = overtaken(trace, starts.priority, (j) => (2 - j.priority) * settings.agingMs);
  out.push({ name: 'priority: no job served after a job added more than (2 − p) × agingMs after it', ok: late === 0, detail: `${late} violations` });
  const lateSjf = overtaken(trace, starts.sjf, (j) => j.serviceMs * settings.sjfCostFactor);
  out.push({ name: 'sjf: no job served after a job added more than cost × sjfCostFactor after it', ok: lateSjf === 0, detail: `${lateSjf} violations` });

  const fairSmall = get('fair', 'small tenants').p99Ms;
  const fifoSmall = get('fifo', 'small tenants').p99Ms;
  out.push({ name: 'fair share bounds the small tenants', ok: fairSmall < fifoSmall, detail: `p99 of the small tenants: ${s(fairSmall)} s under fair, ${s(fifoSmall)} s under fifo` });
  const worst = fairDispatchExcess(trace, starts.fair, theory.fairFactor);
  const slack = theory.fairFactor - 1;
  out.push({
    name: 'fair: a small tenant’s job starts within n × (1 + W/w) dispatches (+ one per other group)',
    ok: worst.excess <= slack,
    detail: `worst: ${worst.dispatches} dispatches for n = ${worst.n} (bound ${worst.n} × ${theory.fairFactor} + ${slack})`,
  });
  return out;
}

/**
 * How many jobs were started after a job that arrived more than `windowMs(job)` after them:
 * the policies' written guarantees (the running maximum of arrival times in start order).
 */
function overtaken(trace: readonly TraceJob[], starts: readonly Start[], windowMs: (job: TraceJob) => number): number {
  const order = [...trace].sort((a, b) => starts[a.i]!.dispatch - starts[b.i]!.dispatch);
  let latestArrival = -Infinity;
  let violations = 0;
  for (const j of order) {
    if (latestArrival > j.arrivalMs + windowMs(j)) violations++;
    latestArrival = Math.max(latestArrival, j.arrivalMs);
  }
  return violations;
}

/**
 * For each small tenant's job: d, the dispatches from its add to its own start (its own
 * included), and n, its tenant's jobs waiting at its add (itself included). Returns the job
 * with the largest d − n × factor.
 */
function fairDispatchExcess(trace: readonly TraceJob[], starts: readonly Start[], factor: number): { dispatches: number; n: number; excess: number } {
  const startTimes = trace.map((j) => starts[j.i]!.startMs).sort((a, b) => a - b);
  const startedBefore = (t: number): number => {
    let lo = 0;
    let hi = startTimes.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (startTimes[mid]! < t) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
  const byTenant = new Map<string, TraceJob[]>();
  for (const j of trace) if (j.tenant !== NOISY_TENANT) byTenant.set(j.tenant, [...(byTenant.get(j.tenant) ?? []), j]);
  let worst = { dispatches: 0, n: 0, excess: -Infinity };
  for (const jobs of byTenant.values()) {
    for (const [k, j] of jobs.entries()) {
      let n = 1;
      // Claims at an instant come after its adds: a job started at j's arrival was still waiting.
      for (let b = k - 1; b >= 0 && starts[jobs[b]!.i]!.startMs >= j.arrivalMs; b--) n++;
      const dispatches = starts[j.i]!.dispatch - startedBefore(j.arrivalMs) + 1;
      const excess = dispatches - n * factor;
      if (excess > worst.excess) worst = { dispatches, n, excess };
    }
  }
  return worst;
}

/** The report as printed: the trace, a table per policy, the notes, the checks. */
export function formatReport(r: SimulationReport, command: string): string {
  const { spec, theory: t, settings } = r;
  const span = r.trace[r.trace.length - 1]!.arrivalMs;
  const floods = new Set(r.trace.filter((j) => j.flood !== null).map((j) => j.flood)).size;
  const lines = [
    `$ ${command}`,
    `trace: seed ${spec.seed}, ${r.trace.length} jobs over ${s(span)} s of simulated time, ${spec.workers} worker; ` +
      `offered load ${spec.load} (this sample: ρ = ${t.rho.toFixed(3)}); ` +
      `sizes: ${spec.shortShare * 100} % short (exp., mean ${s(spec.shortMeanMs)} s), the rest long (exp., mean ${s(spec.longMeanMs)} s), cost = service time; ` +
      `priorities 0/1/2: ${spec.priorityShares.map((p) => `${p * 100} %`).join(' / ')}; ` +
      `tenants: ${spec.tenants.map((x) => `${x.name} ${x.share * 100} %`).join(', ')} of single arrivals, ` +
      `plus ${floods} floods of ${spec.floodSize} jobs from ${NOISY_TENANT} (${spec.floodShare * 100} % of jobs)`,
    `settings: priority agingMs ${settings.agingMs}; sjf sjfCostFactor ${settings.sjfCostFactor}; fair: every tenant weight 1`,
    'waits in seconds (add → start); "expected" is the mean queueing theory gives for this sample (its own rates and moments; notes below)',
  ];
  for (const policy of POLICIES) {
    lines.push('', `policy ${policy}${policy === 'fifo' ? ' (strict priority levels, no aging)' : ''}`);
    const rows = r.figures[policy].map((f) => [f.label, String(f.jobs), s(f.meanMs), f.expected, s(f.p99Ms)]);
    const header = ['class', 'jobs', 'mean', 'expected', 'p99'];
    const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
    const fmt = (cells: string[]): string => cells.map((c, i) => (i === 0 || i === 3 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ').trimEnd();
    lines.push(fmt(header), ...rows.map(fmt));
  }
  lines.push(
    '',
    'C  FCFS mean of M^X/G/1 (Pollaczek–Khinchine with batches), exact; by the conservation law it is every size-blind order’s mean over all jobs,',
    '   and the mean of any class drawn independently of the order (sizes under fifo/priority/fair, levels under fair). ≈: a single arrival’s FCFS wait.',
    '   Cobham: non-preemptive priority M/G/1, W_k = W₀ / (1 − σ_{k−1})(1 − σ_k), W₀ = W_FCFS (1 − ρ) (exact without batches).',
    `A  aging: priority 2 lies between its strict-priority mean (Cobham) and FCFS; level p waits ≤ W_FCFS + ρ (2 − p) agingMs on average.`,
    `P  Phipps, non-preemptive pure SJF: W(x) = W₀ / (1 − ρ(x))²; with sjfCostFactor ${settings.sjfCostFactor} the mean lies between pure SJF and FCFS (Kleinrock: SJF's mean ≤ FCFS's).`,
    `F  fair share: about n (1 + W/w) = n × ${t.fairFactor} dispatches; in time with n = 1, about the residual of the running job plus one job per other group.`,
    '',
    'checks:',
    ...r.checks.map((c) => `  ${c.ok ? 'ok  ' : 'FAIL'} ${c.name}: ${c.detail}`),
  );
  return `${lines.join('\n')}\n`;
}
