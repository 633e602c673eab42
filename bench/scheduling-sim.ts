/**
 * The scheduling simulation report (docs/scheduling.md, "Simulation report"): replays one
 * seeded arrival trace under `fifo`, `priority`, `sjf` and `fair` through the real engine on
 * a manual clock, and prints the mean and p99 wait per class beside what queueing theory
 * expects. Exits 1 when a check fails.
 *
 *   npm run bench:scheduling                       # the published report (50,000 jobs, seed 15; a few minutes)
 *   npm run bench:scheduling -- --jobs 2000 --seed 7
 */
import { parseArgs } from 'node:util';
import { formatReport, REPORT_SETTINGS, simulate } from './scheduling/report.ts';
import { REPORT_TRACE } from './scheduling/trace.ts';

const { values } = parseArgs({
  options: {
    jobs: { type: 'string' },
    seed: { type: 'string' },
  },
});
const spec = {
  ...REPORT_TRACE,
  ...(values.jobs !== undefined ? { jobs: Number(values.jobs) } : {}),
  ...(values.seed !== undefined ? { seed: Number(values.seed) } : {}),
};
if (!Number.isInteger(spec.jobs) || spec.jobs < 100) throw new Error(`--jobs must be an integer ≥ 100, got ${values.jobs}`);
if (!Number.isInteger(spec.seed)) throw new Error(`--seed must be an integer, got ${values.seed}`);

const report = await simulate(spec, REPORT_SETTINGS, (policy, ms) => process.stderr.write(`scheduling-sim: ${policy} replayed in ${(ms / 1000).toFixed(1)} s\n`));
const args = process.argv.slice(2);
process.stdout.write(formatReport(report, `npm run bench:scheduling${args.length > 0 ? ` -- ${args.join(' ')}` : ''}`));
if (report.checks.some((c) => !c.ok)) process.exitCode = 1;
