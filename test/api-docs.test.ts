/**
 * The API reference, docs/api/ (written by `npm run docs:api`, scripts/api-docs.ts, from the
 * TSDoc of the public entry points): the committed copy is what the sources give, TypeDoc finds
 * no broken `{@link}` and no public type left unexported, and no relative link or anchor in
 * it, nor in the README, the changelog, CONTRIBUTING.md or docs/*.md, leads nowhere.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { checkMarkdownLinks, formatBrokenLinks, githubSlug, markdownAnchors, markdownFilesUnder, markdownLinks } from './support/markdown-links.ts';

const REPO = join(import.meta.dirname, '..');
const API_DOCS = join(REPO, 'docs', 'api');

/** Every file under a folder (paths relative to it, sorted) with its content. */
function tree(dir: string): Map<string, string> {
  const files = readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => join(entry.parentPath, entry.name).slice(dir.length + 1))
    .sort();
  return new Map(files.map((file) => [file, readFileSync(join(dir, file), 'utf8')]));
}

test('docs/api/ is what npm run docs:api writes from the sources', { timeout: 180_000 }, async () => {
  const out = mkdtempSync(join(tmpdir(), 'spool-api-docs-'));
  try {
    const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1' };
    delete env.NODE_TEST_CONTEXT;
    delete env.NODE_OPTIONS;
    const run = await new Promise<{ code: number; output: string }>((resolve) => {
      execFile(process.execPath, [join(REPO, 'scripts', 'api-docs.ts'), out], { cwd: REPO, env, maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) =>
        resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, output: stdout + stderr }),
      );
    });
    assert.equal(run.code, 0, `scripts/api-docs.ts failed (TypeDoc treats every warning as an error; fix the TSDoc it names):\n${run.output}`);
    const built = tree(out);
    const committed = tree(API_DOCS);
    const missing = [...built.keys()].filter((file) => !committed.has(file));
    const extra = [...committed.keys()].filter((file) => !built.has(file));
    const changed = [...built.keys()].filter((file) => committed.has(file) && committed.get(file) !== built.get(file));
    assert.deepEqual(
      { missing, extra, changed },
      { missing: [], extra: [], changed: [] },
      'docs/api/ is out of date with the TSDoc in src/: run npm run docs:api and commit docs/api/ ' +
        '(missing: generated but not committed; extra: committed but no longer generated; changed: different content)',
    );
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});

test('every relative link and anchor in docs/api/ resolves', () => {
  const files = markdownFilesUnder(API_DOCS);
  assert.ok(files.includes(join(API_DOCS, 'README.md')), 'docs/api/README.md, the index the README links to, is missing: run npm run docs:api');
  assert.equal(formatBrokenLinks(checkMarkdownLinks(files, REPO)), '', 'broken links in docs/api/ (run npm run docs:api; if they persist, the TSDoc they come from is at fault)');
});

test('every relative link and anchor in README.md, CHANGELOG.md, CONTRIBUTING.md and docs/*.md resolves', () => {
  const docs = readdirSync(join(REPO, 'docs')).filter((name) => name.endsWith('.md')).map((name) => join('docs', name));
  const files = ['README.md', 'CHANGELOG.md', 'CONTRIBUTING.md', ...docs].map((file) => join(REPO, file));
  assert.equal(formatBrokenLinks(checkMarkdownLinks(files, REPO)), '', 'broken relative links (file:line: target (reason))');
});

test('the link checker: GitHub slugs, links outside code only, missing files and anchors reported', () => {
  assert.equal(githubSlug('Through a broker (`--url`)'), 'through-a-broker---url');
  assert.equal(githubSlug('The peers: `npm run bench:peers`'), 'the-peers-npm-run-benchpeers');
  assert.equal(githubSlug('### `spool add <queue> <json>`'.slice(4)), 'spool-add-queue-json');
  assert.equal(githubSlug('add()'), 'add');
  assert.deepEqual([...markdownAnchors('# A\n## A\n```sh\n# not a heading\n```\nB\n---\n<a id="x"></a>\n## A')], ['a', 'a-1', 'b', 'x', 'a-2']);
  const text = 'See [one](a.md) and `[code](nope.md)`,\n[wrapped\ntext](b.md#top "title").\n```\n[fenced](nope.md)\n```\n[ref]: c.md\n<img src="d.svg">';
  assert.deepEqual(markdownLinks(text), [
    { target: 'a.md', line: 1 },
    { target: 'b.md#top', line: 2 },
    { target: 'c.md', line: 7 },
    { target: 'd.svg', line: 8 },
  ]);

  const dir = mkdtempSync(join(tmpdir(), 'spool-links-'));
  try {
    mkdirSync(join(dir, 'sub'));
    writeFileSync(join(dir, 'sub', 'b.md'), '# Top\n');
    writeFileSync(join(dir, 'a.md'), '[ok](sub/b.md#top) [dir](sub/) [web](https://example.com/x.md) [self](#here)\n## Here\n[gone](sub/c.md) [bad](sub/b.md#bottom) [abs](/sub/b.md#top)\n');
    assert.deepEqual(
      checkMarkdownLinks([join(dir, 'a.md')], dir).map((b) => `${b.file}:${b.line}: ${b.target} (${b.reason})`),
      ['a.md:3: sub/c.md (no such file: sub/c.md)', 'a.md:3: sub/b.md#bottom (no heading or id "bottom" in sub/b.md)'],
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
