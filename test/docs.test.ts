/**
 * The docs' code keeps working:
 * - every ```ts block of README.md and docs/*.md type-checks against the sources, with the
 *   repository's compiler options (`spool-queue`, `spool-queue/server` and
 *   `spool-queue/conformance` are the sources of those entry points);
 * - every ```sh block of docs/cli.md runs with `bash -Eeuo pipefail`, each in a fresh empty
 *   directory, with `spool` on the PATH running this repository's CLI;
 * - every flag docs/cli.md gives a command is one of that command's options, as are the flags
 *   of its `--help`, and each option is in both;
 * - every repository file the docs name (`src/…`, `test/…`) exists, and docs/configuration.md
 *   gives each limit the meaning src/core/limits.ts gives it.
 *
 * A block that is deliberately not a complete program is marked just before it with
 * `<!-- not checked: why -->` (TypeScript) or `<!-- not run: why -->` (docs/cli.md's shell).
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { basename, join, relative, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { GLOBAL_OPTIONS, GLOBAL_OPTIONS_HELP } from '../src/cli/args.ts';
import { COMMANDS } from '../src/cli/run.ts';
import { LIMITS } from '../src/core/limits.ts';
import { codeBlocksOf, sectionsOf, type CodeBlock } from './support/markdown.ts';

const ROOT = join(import.meta.dirname, '..');
const NODE = existsSync(join(ROOT, 'node_modules', '.bin', 'node')) ? join(ROOT, 'node_modules', '.bin', 'node') : process.execPath;
const TSC = join(ROOT, 'node_modules', '.bin', 'tsc');
const CLI_DOC = 'docs/cli.md';
/** The Markdown files whose code is checked; docs/api/ is generated and checked elsewhere. */
const DOCS = ['README.md', ...readdirSync(join(ROOT, 'docs')).filter((f) => f.endsWith('.md')).sort().map((f) => `docs/${f}`)];
/** The entry points of the package, as the docs import them, and the sources they are built from. */
const ENTRY_POINTS: Record<string, string> = {
  'spool-queue': 'src/index.ts',
  'spool-queue/server': 'src/server/index.ts',
  'spool-queue/conformance': 'src/store/conformance/index.ts',
};
/** Longest one shell block may run before it is killed and fails. */
const BLOCK_TIMEOUT_MS = 120_000;

const blocksByDoc = new Map(DOCS.map((f) => [f, codeBlocksOf(join(ROOT, f), f)]));
const isTs = (b: CodeBlock) => b.lang === 'ts' || b.lang === 'typescript';
const where = (b: CodeBlock) => `${b.file}:${b.line}`;

describe('docs', { concurrency: true }, () => {
  it('every "<!-- not … -->" mark is on a block it can apply to', () => {
    for (const blocks of blocksByDoc.values()) {
      for (const b of blocks) {
        if (b.mark?.kind === 'not checked') assert.ok(isTs(b), `${where(b)}: "not checked" marks a TypeScript block, not a ${b.lang || 'bare'} one`);
        if (b.mark?.kind === 'not run') assert.ok(b.file === CLI_DOC && b.lang === 'sh', `${where(b)}: "not run" marks a sh block of ${CLI_DOC}`);
      }
    }
  });

  it('the TypeScript blocks of README.md and docs/*.md type-check against the sources', { timeout: 120_000 }, async (t) => {
    const blocks = [...blocksByDoc.values()].flat().filter((b) => isTs(b) && b.mark?.kind !== 'not checked');
    assert.ok(blocks.length > 0, 'there are TypeScript blocks to check');
    // Inside the repository, so that the blocks resolve node_modules (@types/node, pg, postgres) as the sources do.
    const cache = join(ROOT, 'node_modules', '.cache');
    mkdirSync(cache, { recursive: true });
    const dir = mkdtempSync(join(cache, 'spool-docs-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const byName = new Map<string, CodeBlock>();
    for (const b of blocks) {
      const name = `${b.file.replace(/[^\w]/g, '_')}_${b.line}.ts`;
      writeFileSync(join(dir, name), b.code);
      byName.set(name, b);
    }
    const paths = Object.fromEntries(Object.entries(ENTRY_POINTS).map(([specifier, file]) => [specifier, [join(ROOT, file)]]));
    writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify({
      extends: join(ROOT, 'tsconfig.json'),
      // Every block is a module (top-level await, no names shared between blocks).
      // A block may show a value it does not use (`const job = await q.add(…)`).
      compilerOptions: { rootDir: ROOT, moduleDetection: 'force', noEmit: true, noUnusedLocals: false, paths },
      include: ['*.ts'],
      exclude: [],
    }));
    const r = await run(TSC, ['--noEmit', '--pretty', 'false', '-p', join(dir, 'tsconfig.json')], { cwd: dir });
    // "file(line,col): error TS…: message", with indented lines that go on with the message. An
    // error in a block names the doc's line; one without a file is the configuration's. Errors in
    // the sources themselves are left to `npm run typecheck`, so that they do not fail this test.
    const errors: { text: string; elsewhere: boolean }[] = [];
    for (const line of r.stdout.split('\n')) {
      if (!line.trim()) continue;
      const m = /^(.+?)\((\d+),(\d+)\): (.*)$/.exec(line);
      if (!m) {
        if (/^\s/.test(line) && errors.length > 0) errors[errors.length - 1]!.text += `\n    ${line.trim()}`;
        else errors.push({ text: line, elsewhere: false });
        continue;
      }
      const [, file, row, col, message] = m as unknown as [string, string, string, string, string];
      const block = byName.get(basename(file));
      if (block) errors.push({ text: `${block.file}:${block.line + Number(row)}:${col}: ${message} (the ts block at line ${block.line})`, elsewhere: false });
      else errors.push({ text: `${relative(ROOT, resolve(dir, file))}:${row}:${col}: ${message}`, elsewhere: true });
    }
    const failures = errors.filter((e) => !e.elsewhere);
    const sources = errors.filter((e) => e.elsewhere).length;
    if (failures.length > 0) {
      assert.fail(`the docs' TypeScript does not type-check:\n${failures.map((e) => e.text).join('\n')}${sources ? `\n(and ${sources} errors in the sources: npm run typecheck)` : ''}\n${r.stderr}`);
    }
    assert.ok(r.code === 0 || sources > 0, `tsc exited ${r.code}\n${r.stdout}${r.stderr}`);
  });

  describe(`the sh blocks of ${CLI_DOC} run, each in an empty directory`, { concurrency: Math.max(2, availableParallelism()) }, () => {
    let bin = '';
    before(() => {
      // `spool` on the PATH is this repository's CLI, run from its sources by the pinned Node.
      bin = mkdtempSync(join(tmpdir(), 'spool-docs-bin-'));
      writeFileSync(join(bin, 'spool'), `#!/bin/sh\nexec ${shellQuote(NODE)} ${shellQuote(join(ROOT, 'src', 'cli', 'main.ts'))} "$@"\n`);
      chmodSync(join(bin, 'spool'), 0o755);
    });
    after(() => rmSync(bin, { recursive: true, force: true }));

    const blocks = blocksByDoc.get(CLI_DOC)!.filter((b) => b.lang === 'sh');
    for (const block of blocks) {
      if (block.mark?.kind === 'not run') {
        it(`${where(block)}`, { skip: `not run: ${block.mark.reason}` }, () => {});
        continue;
      }
      it(`${where(block)}`, { timeout: BLOCK_TIMEOUT_MS + 10_000 }, async (t) => {
        const cwd = mkdtempSync(join(tmpdir(), 'spool-docs-cli-'));
        t.after(() => rmSync(cwd, { recursive: true, force: true }));
        const script = join(bin, `block-${block.line}.sh`);
        // Line 1 reports the failing command; the block's line n is the script's line n + 1.
        writeFileSync(script, `trap 'spool_docs_status=$?; echo "spool-docs: line $LINENO exited $spool_docs_status: $BASH_COMMAND" >&2' ERR\n${block.code}`);
        const env: NodeJS.ProcessEnv = { ...process.env, PATH: `${bin}:${process.env.PATH ?? ''}`, NODE_COMPILE_CACHE: join(tmpdir(), 'spool-docs-compile-cache') };
        for (const name of ['SPOOL_STORE', 'SPOOL_SCHEMA', 'SPOOL_URL', 'SPOOL_TOKEN']) delete env[name];
        const r = await run('bash', ['-Eeuo', 'pipefail', script], { cwd, env, timeoutMs: BLOCK_TIMEOUT_MS });
        if (r.code === 0 && !r.timedOut) return;
        const failed = /spool-docs: line (\d+) exited (\d+): (.*)/.exec(r.stderr);
        const why = failed
          ? `${CLI_DOC}:${block.line + Number(failed[1]) - 1}: \`${failed[3]}\` exited ${failed[2]}`
          : r.timedOut ? `timed out after ${BLOCK_TIMEOUT_MS / 1000} s` : `exit code ${r.code}`;
        assert.fail(`the sh block at ${where(block)} failed: ${why}\n--- stderr\n${r.stderr}--- stdout\n${r.stdout}`);
      });
    }
  });

  describe(`the flags of ${CLI_DOC} and of spool <command> --help`, () => {
    const doc = readFileSync(join(ROOT, CLI_DOC), 'utf8');
    const global = new Set([...Object.keys(GLOBAL_OPTIONS), 'version']);
    const names = new Set(COMMANDS.map((c) => c.name));
    const flagsIn = (text: string) => [...text.matchAll(/(?<![\w-])--([a-z][a-z-]*)/g)].map((m) => m[1]!);

    it('the global options table lists the global options', () => {
      const section = sectionsOf(doc, 2).find((s) => s.heading === '## Global options');
      assert.ok(section, `${CLI_DOC} has a "## Global options" section`);
      const rows = section.body.split('\n').filter((l) => l.startsWith('| `-'));
      assert.deepEqual(new Set(rows.flatMap((row) => flagsIn(row.split(' | ')[0]!))), global);
      for (const name of Object.keys(GLOBAL_OPTIONS)) assert.match(GLOBAL_OPTIONS_HELP, new RegExp(`--${name}\\b`), `spool --help describes --${name}`);
    });

    // Where the page gives a command a flag: after `spool <command>` in code (spans, blocks,
    // headings), and in the option tables of the command's own sections.
    const given = new Map<string, Map<string, number[]>>(COMMANDS.map((c) => [c.name, new Map()]));
    const give = (command: string, flag: string, line: number) => {
      const lines = given.get(command)!;
      lines.set(flag, [...(lines.get(flag) ?? []), line]);
    };
    let fence: string | null = null;
    doc.split('\n').forEach((line, i) => {
      const f = /^ {0,3}(`{3,})/.exec(line);
      if (f) {
        fence = fence === null ? f[1]! : null;
        return;
      }
      const pieces = fence !== null ? [line.replace(/(^|\s)#.*$/, '')] : [...line.matchAll(/`([^`]+)`/g)].map((m) => m[1]!);
      for (const piece of pieces) {
        for (const use of piece.matchAll(/(?:^|[\s(])spool ([a-z]+)\b([^|;&]*)/g)) {
          if (!names.has(use[1]!)) continue;
          const rest = use[2]!.split(/\s--(?:\s|$)/)[0]!; // after a bare `--` come positionals
          for (const flag of flagsIn(rest)) give(use[1]!, flag, i + 1);
        }
      }
    });
    for (const section of sectionsOf(doc, 3)) {
      const heading = section.heading;
      let commands = [...heading.matchAll(/`spool ([a-z]+)/g)].map((m) => m[1]!);
      if (commands.length === 0) commands = [...heading.matchAll(/`([a-z]+)/g)].map((m) => m[1]!).filter((n) => names.has(n));
      section.body.split('\n').forEach((line, i) => {
        if (!line.startsWith('| `-')) return;
        for (const command of commands) for (const flag of flagsIn(line.split(' | ')[0]!)) give(command, flag, section.line + 1 + i);
      });
    }

    for (const command of COMMANDS) {
      it(`spool ${command.name}`, () => {
        const options = new Set(Object.keys(command.options));
        const inDoc = given.get(command.name)!;
        for (const [flag, lines] of inDoc) {
          assert.ok(options.has(flag) || global.has(flag), `${CLI_DOC}:${lines.join(',')}: spool ${command.name} has no option --${flag}`);
        }
        for (const option of options) assert.ok(inDoc.has(option), `${CLI_DOC} does not give spool ${command.name} its option --${option}`);
        // --help: the usage lines, and the help's lines that start with a flag (its option list).
        const help = new Set([...command.usage.flatMap(flagsIn), ...[...command.help.matchAll(/^\s+--([a-z][a-z-]*)/gm)].map((m) => m[1]!)]);
        for (const flag of help) assert.ok(options.has(flag) || global.has(flag), `spool ${command.name} --help describes --${flag}, which it does not take`);
        for (const option of options) assert.ok(help.has(option), `spool ${command.name} --help does not describe its option --${option}`);
      });
    }
  });

  it('every file of the repository the docs name exists', () => {
    const missing: string[] = [];
    for (const file of DOCS) {
      readFileSync(join(ROOT, file), 'utf8').split('\n').forEach((line, i) => {
        for (const [, path] of line.matchAll(/`((?:src|test|bench|examples|scripts|docs)\/[\w./-]+)`/g)) {
          if (!/node_modules/.test(path!) && !existsSync(join(ROOT, path!))) missing.push(`${file}:${i + 1}: ${path}`);
        }
      });
    }
    assert.deepEqual(missing, [], 'the docs name files that do not exist');
  });

  it('docs/configuration.md gives each limit the meaning src/core/limits.ts gives it', () => {
    // That every limit has a row, with its default, min and max, src/core/queue-config.test.ts checks.
    const doc = readFileSync(join(ROOT, 'docs', 'configuration.md'), 'utf8');
    for (const [name, bound] of Object.entries(LIMITS)) {
      const row = doc.split('\n').find((l) => l.startsWith(`| \`${name}\` |`));
      if (row) assert.equal(row.split(' | ').slice(4).join(' | ').replace(/ \|$/, ''), bound.doc, `docs/configuration.md: the meaning of ${name}`);
    }
  });
});

function shellQuote(text: string): string {
  return `'${text.replace(/'/g, `'\\''`)}'`;
}

interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
}

/**
 * Runs a program to its end in its own process group; whatever it left running (a broker it
 * started in the background) is killed when it exits, or when `timeoutMs` passes.
 */
function run(file: string, args: readonly string[], options: { cwd: string; env?: NodeJS.ProcessEnv; timeoutMs?: number }): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { cwd: options.cwd, env: options.env ?? process.env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let code: number | null = null;
    let timedOut = false;
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const killGroup = () => {
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        // the group is gone already
      }
    };
    const timer = options.timeoutMs === undefined ? null : setTimeout(() => {
      timedOut = true;
      killGroup();
    }, options.timeoutMs);
    child.on('error', reject);
    child.on('exit', (c) => {
      code = c;
      killGroup();
    });
    child.on('close', () => {
      if (timer) clearTimeout(timer);
      resolve({ code, stdout, stderr, timedOut });
    });
  });
}
