import assert from 'node:assert/strict';
import { test } from 'node:test';
import { barLines, checkBars } from './bars.ts';
import { benchCommand, shellQuote } from './command.ts';
import type { ReportEntry } from './results.ts';
import { formatJson, formatNumber, formatTable, markdownTable, ratioLines } from './table.ts';

const entry = (target: string, workload: string, value: number, min: number, max: number, unit: string, durability = 'fsync on commit'): ReportEntry => ({
  target,
  workload,
  value,
  min,
  max,
  unit,
  durability,
});

const ENTRIES: ReportEntry[] = [
  entry('spool-embedded', 'W3', 43_325, 39_456, 45_945, 'jobs/s'),
  entry('spool-embedded', 'W4-p99', 1.382, 1.176, 1.521, 'ms'),
  entry('spool-embedded', 'W5-10k', 38_182, 37_528, 39_042, 'jobs/s'),
  entry('spool-embedded', 'W5-1m', 44_664, 41_053, 45_469, 'jobs/s'),
  entry('spool-embedded', 'W6', 245.3, 242, 245.9, 'MiB'),
  entry('bullmq', 'W3', 20_000, 19_000, 21_000, 'jobs/s', 'Redis appendfsync everysec'),
  entry('bullmq', 'W4-p99', 2.5, 2.4, 2.6, 'ms', 'Redis appendfsync everysec'),
];

test('numbers get thousands separators and the figure decimals', () => {
  assert.equal(formatNumber(1_234_567.891, 0), '1,234,568');
  assert.equal(formatNumber(0.5, 3), '0.500');
  assert.equal(formatNumber(245.25, 1), '245.3');
  assert.equal(formatNumber(-1_500, 0), '-1,500');
});

test('the text table: a row per target and figure, numbers right-aligned, the ratios after it', () => {
  const text = formatTable(ENTRIES, 3);
  assert.equal(
    text.split('\n\nspool-embedded W5')[0],
    [
      'target          workload  median of 3        min–max  unit    durability',
      '--------------  --------  -----------  -------------  ------  --------------------------',
      'spool-embedded  W3             43,325  39,456–45,945  jobs/s  fsync on commit',
      'spool-embedded  W4-p99          1.382    1.176–1.521  ms      fsync on commit',
      'spool-embedded  W5-10k         38,182  37,528–39,042  jobs/s  fsync on commit',
      'spool-embedded  W5-1m          44,664  41,053–45,469  jobs/s  fsync on commit',
      'spool-embedded  W6              245.3    242.0–245.9  MiB     fsync on commit',
      '',
      'bullmq          W3             20,000  19,000–21,000  jobs/s  Redis appendfsync everysec',
      'bullmq          W4-p99          2.500    2.400–2.600  ms      Redis appendfsync everysec',
    ].join('\n'),
  );
  assert.ok(text.includes('spool-embedded W5 ratio (1,000,000 / 10,000 backlog): 1.17'));
  assert.ok(formatTable(ENTRIES, 3, ['bar: x']).trimEnd().endsWith('bar: x'));
});

test('the JSON is the array docs/benchmarks.md defines: exactly its seven fields, in order', () => {
  const withExtra = [{ ...ENTRIES[0]!, note: 'dropped' } as ReportEntry];
  const parsed = JSON.parse(formatJson(withExtra)) as Record<string, unknown>[];
  assert.deepEqual(parsed, [{ target: 'spool-embedded', workload: 'W3', value: 43_325, min: 39_456, max: 45_945, unit: 'jobs/s', durability: 'fsync on commit' }]);
  assert.deepEqual(Object.keys(parsed[0]!), ['target', 'workload', 'value', 'min', 'max', 'unit', 'durability']);
  assert.equal(formatJson([]), '[]\n');
});

test('ratios: W5 1m / 10k and W3-2w / W3, where both figures are there', () => {
  assert.deepEqual(ratioLines([...ENTRIES, entry('spool-server', 'W3', 30_000, 30_000, 30_000, 'jobs/s'), entry('spool-server', 'W3-2w', 36_000, 36_000, 36_000, 'jobs/s')]), [
    'spool-embedded W5 ratio (1,000,000 / 10,000 backlog): 1.17',
    'spool-server W3-2w / W3 (two worker processes / one): 1.20',
  ]);
});

test('ratios: each W3 variant over W3 of the same target, against its bar', () => {
  const lines = ratioLines([
    entry('spool-postgres', 'W3', 20_000, 19_000, 21_000, 'jobs/s'),
    entry('spool-postgres', 'W3-priority', 19_000, 18_000, 20_000, 'jobs/s'),
    entry('spool-postgres', 'W3-fair', 15_000, 14_000, 16_000, 'jobs/s'),
    entry('spool-postgres', 'W3-rate', 17_900, 17_000, 18_000, 'jobs/s'),
    entry('spool-postgres', 'W3-keyed', 18_500, 18_000, 19_000, 'jobs/s'),
  ]);
  assert.deepEqual(lines, [
    'spool-postgres W3-priority / W3: 0.950 (bar ≥ 0.80: met)',
    'spool-postgres W3-fair / W3: 0.750 (bar ≥ 0.80: missed)',
    'spool-postgres W3-rate / W3: 0.895 (bar ≥ 0.90: missed)',
    'spool-postgres W3-keyed / W3: 0.925 (bar ≥ 0.90: met)',
  ]);
  // Without W3 there is nothing to compare with.
  assert.deepEqual(ratioLines([entry('spool-postgres', 'W3-sjf', 19_000, 18_000, 20_000, 'jobs/s')]), []);
});

test('ratios: each topic run over W1 of the same target, in jobs written per second, against its bar', () => {
  const lines = ratioLines([
    entry('spool-embedded', 'W1', 10_000, 9_000, 11_000, 'jobs/s'),
    entry('spool-embedded', 'W1-topic', 8_500, 8_000, 9_000, 'jobs/s'),
    entry('spool-embedded', 'W1-fanout10', 4_000, 3_000, 5_000, 'jobs/s'),
  ]);
  assert.deepEqual(lines, [
    'spool-embedded W1-topic / W1 (jobs written per second): 0.850 (bar ≥ 0.80: met)',
    'spool-embedded W1-fanout10 / W1 (jobs written per second): 0.400 (bar ≥ 0.50: missed)',
  ]);
});

test('ratios: a target beside its variant without metrics, per throughput figure', () => {
  const lines = ratioLines([
    entry('spool-server', 'W3', 36_000, 35_000, 37_000, 'jobs/s'), entry('spool-server', 'W4-p99', 2, 2, 2, 'ms'),
    entry('spool-server-nometrics', 'W3', 37_000, 36_000, 38_000, 'jobs/s'), entry('spool-server-nometrics', 'W4-p99', 2, 2, 2, 'ms'),
  ]);
  assert.deepEqual(lines, ['spool-server W3 with /metrics / without (spool-server-nometrics): 0.973, a cost of 2.7 %']);
});

test('the docs table: a row per figure in catalog order, a column per target, min–max under the median', () => {
  const md = markdownTable(ENTRIES, 3).split('\n');
  assert.equal(md[0], '| figure | unit | spool-embedded | bullmq |');
  assert.equal(md[1], '|---|---|---:|---:|');
  assert.equal(md[2], '| W3 drain 100,000, one worker | jobs/s | 43,325<br><sub>39,456–45,945</sub> | 20,000<br><sub>19,000–21,000</sub> |');
  assert.equal(md[3], '| W4-p99 add→handler-start p99 | ms | 1.382<br><sub>1.176–1.521</sub> | 2.500<br><sub>2.400–2.600</sub> |');
  assert.ok(md.includes('| W6 peak RSS, backlog 1,000,000 | MiB | 245.3<br><sub>242.0–245.9</sub> | — |'));
  assert.equal(md.at(-1), '| durability | | fsync on commit | Redis appendfsync everysec |');
  // One run: the value alone.
  assert.equal(markdownTable(ENTRIES.slice(0, 1), 1).split('\n')[2], '| W3 drain 100,000, one worker | jobs/s | 43,325 |');
});

test('the bar: checked where its figures are there', () => {
  const checks = checkBars(ENTRIES);
  assert.equal(checks.length, 1, 'only spool-embedded W3 against bullmq W3 has both figures');
  assert.equal(checks[0]!.bar, 'spool-embedded W3 ≥ 2 × bullmq W3');
  assert.equal(checks[0]!.met, true);
  assert.equal(checks[0]!.measured, '43,325 vs 2 × 20,000 = 40,000 jobs/s');
  const server = [
    entry('spool-server', 'W3', 30_000, 0, 0, 'jobs/s'),
    entry('spool-server', 'W4-p99', 3, 0, 0, 'ms'),
    entry('bullmq', 'W3', 20_000, 0, 0, 'jobs/s'),
    entry('bullmq', 'W4-p99', 2.5, 0, 0, 'ms'),
    entry('nats', 'W3', 40_000, 0, 0, 'jobs/s'),
  ];
  const [w3, w4] = checkBars(server);
  assert.equal(w3!.bar, 'spool-server W3 ≥ the best W3 of bullmq, rabbitmq, nats');
  assert.equal(w3!.measured, '30,000 vs 40,000 (nats) jobs/s');
  assert.equal(w3!.met, false);
  assert.equal(w3!.margin, 0.75);
  assert.equal(w4!.bar, 'spool-server W4-p99 ≤ bullmq W4-p99');
  assert.equal(w4!.met, false);
  assert.deepEqual(barLines([w4!]), ['bar: spool-server W4-p99 ≤ bullmq W4-p99: 3.000 vs 2.500 ms: missed (0.83× the bar)']);
});

test('the command as typed: npm script arguments left out, the rest quoted for a shell', () => {
  const npm = { npm_lifecycle_event: 'bench', npm_lifecycle_script: 'node bench/run.ts' };
  assert.equal(benchCommand(['--write-docs', '--scale'], npm), 'npm run bench -- --write-docs --scale');
  assert.equal(benchCommand([], npm), 'npm run bench');
  const peers = { npm_lifecycle_event: 'bench:peers', npm_lifecycle_script: 'bash bench/servers.sh && node bench/run.ts --target all && echo done' };
  assert.equal(benchCommand(['--target', 'all', '--write-docs'], peers), 'npm run bench:peers -- --write-docs');
  assert.equal(benchCommand(['--workload', 'W3,W4'], {}), 'node bench/run.ts --workload W3,W4');
  assert.equal(shellQuote("it's here"), `'it'\\''s here'`);
  assert.equal(benchCommand(['--report', '/tmp/my page.md'], {}), "node bench/run.ts --report '/tmp/my page.md'");
});

test('the ratios of W4-noisy to W4 and of W7 to the rate it was offered', () => {
  assert.deepEqual(
    ratioLines([
      entry('spool-server', 'W4-p99', 2, 2, 2, 'ms'),
      entry('spool-server', 'W4-noisy-p99', 5, 5, 5, 'ms'),
      entry('spool-server', 'W7', 19_600, 19_600, 19_600, 'jobs/s'),
      entry('spool-server', 'W7-rate', 20_000, 20_000, 20_000, 'jobs/s'),
    ]),
    ['spool-server W4-noisy-p99 / W4-p99 (beside a CPU-bound process / alone): 2.50', 'spool-server W7 / W7-rate (completed / offered): 0.98'],
  );
});
