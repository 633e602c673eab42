import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { END_MARKER, renderSection, replaceSection, START_MARKER, writeDocs } from './docs.ts';
import type { BenchResults } from './results.ts';

const PAGE = `# Benchmarks\n\nHand-written text.\n\n${START_MARKER}\nold generated text\n${END_MARKER}\n\n## Later\n\nMore text.\n`;

function results(overrides: Partial<BenchResults> = {}): BenchResults {
  return {
    date: '2026-11-24T12:34:56.000Z',
    command: 'npm run bench:peers -- --scale --write-docs',
    commit: 'abc1234',
    machine: { cpu: 'Test CPU at 2.6 GHz', cores: 2, memoryGiB: 23.5, os: 'Debian GNU/Linux 13', kernel: 'Linux 6.18.0 x64', node: 'v24.21.0', sqlite: '3.53.4' },
    runs: 3,
    quick: false,
    entries: [
      { target: 'spool-embedded', workload: 'W3', value: 43_325, min: 39_456, max: 45_945, unit: 'jobs/s', durability: 'fsync on commit' },
      { target: 'bullmq', workload: 'W3', value: 20_000, min: 19_000, max: 21_000, unit: 'jobs/s', durability: 'Redis AOF, appendfsync everysec' },
    ],
    histograms: {},
    failures: [],
    ...overrides,
  };
}

test('the section between the markers is replaced, the rest of the page kept', () => {
  const once = replaceSection(PAGE, 'new text');
  assert.equal(once, `# Benchmarks\n\nHand-written text.\n\n${START_MARKER}\nnew text\n${END_MARKER}\n\n## Later\n\nMore text.\n`);
  assert.equal(replaceSection(once, 'new text'), once, 'replacing again changes nothing');
  assert.equal(replaceSection(once, '\n\nspaced\n\n'), once.replace('new text', 'spaced'));
  // A start marker whose note was edited by hand still counts.
  const edited = PAGE.replace(START_MARKER, '<!-- bench-report:start (generated) -->');
  assert.match(replaceSection(edited, 'x'), /<!-- bench-report:start \(generated\) -->\nx\n<!-- bench-report:end -->/);
});

test('missing, repeated or misordered markers are refused', () => {
  assert.throws(() => replaceSection('# no markers\n', 'x'), /expected one/);
  assert.throws(() => replaceSection(`${PAGE}${START_MARKER}\n`, 'x'), /found 2 and 1/);
  assert.throws(() => replaceSection(`${END_MARKER}\n${START_MARKER}\n`, 'x'), /comes before/);
});

test('the section says when, how and where it was measured, and links the charts', () => {
  const md = renderSection(results(), [{ link: 'bench/throughput.svg', title: 'W1–W3 throughput per target' }]);
  assert.match(md, /^Measured 2026-11-24 12:34 UTC at commit `abc1234` with\n\n```sh\nnpm run bench:peers -- --scale --write-docs\n```/);
  assert.match(md, /median of 3 runs/);
  assert.match(md, /\| CPU \| Test CPU at 2\.6 GHz, 2 logical cores \|/);
  assert.match(md, /\| memory \| 23\.5 GiB \|/);
  assert.match(md, /\| OS \| Debian GNU\/Linux 13, Linux 6\.18\.0 x64 \|/);
  assert.match(md, /\| Node \| v24\.21\.0 \(SQLite 3\.53\.4 in `node:sqlite`\) \|/);
  assert.match(md, /\| W3 drain 100,000, one worker \| jobs\/s \| 43,325<br><sub>39,456–45,945<\/sub> \| 20,000<br><sub>19,000–21,000<\/sub> \|/);
  assert.match(md, /\| spool-embedded W3 ≥ 2 × bullmq W3 \| 43,325 vs 2 × 20,000 = 40,000 jobs\/s \| met, 1\.08× the bar \|/);
  assert.match(md, /!\[W1–W3 throughput per target\]\(bench\/throughput\.svg\)/);
  assert.doesNotMatch(md, /Smoke run|failed/);
  const smoke = renderSection(results({ quick: true, runs: 1, failures: [{ target: 'nats', run: 'W7', message: 'nats W7 run 1 failed (exit code 1)\nstack' }] }), []);
  assert.match(smoke, /\*\*Smoke run\*\* \(`--quick`\)/);
  assert.match(smoke, /from one run/);
  assert.match(smoke, /- nats W7: nats W7 run 1 failed \(exit code 1\)$/m);
});

test('writeDocs renders the charts beside the page, saves the results and updates the section', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'spool-bench-docs-'));
  try {
    const page = join(dir, 'benchmarks.md');
    writeFileSync(page, PAGE);
    // A chart of an earlier run that this one has no figures for goes.
    const stale = join(dir, 'bench', 'scaling.svg');
    await writeDocs(results({ entries: results().entries }), page);
    writeFileSync(stale, '<svg/>');
    const written = await writeDocs(results(), page);
    assert.deepEqual(written, [join(dir, 'bench', 'throughput.svg'), join(dir, 'bench', 'results.json'), page]);
    assert.ok(!existsSync(stale));
    assert.match(readFileSync(join(dir, 'bench', 'throughput.svg'), 'utf8'), /^<svg /);
    assert.deepEqual(JSON.parse(readFileSync(join(dir, 'bench', 'results.json'), 'utf8')), results());
    const updated = readFileSync(page, 'utf8');
    assert.ok(updated.startsWith('# Benchmarks\n\nHand-written text.\n\n'));
    assert.ok(updated.endsWith(`${END_MARKER}\n\n## Later\n\nMore text.\n`));
    assert.match(updated, /!\[W1–W3 throughput per target\]\(bench\/throughput\.svg\)/);
    assert.doesNotMatch(updated, /old generated text/);

    // A page without markers is refused before anything is written.
    const bare = join(dir, 'bare.md');
    writeFileSync(bare, '# bare\n');
    rmSync(join(dir, 'bench'), { recursive: true });
    await assert.rejects(writeDocs(results(), bare), /expected one/);
    assert.ok(!existsSync(join(dir, 'bench')));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
