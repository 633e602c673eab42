/**
 * The error registry (`ERRORS`) is the one list of codes: nothing in src/ may raise a code it
 * does not list, every class survives the wire, the HTTP status and exit code come from it,
 * and docs/protocol.md and docs/cli.md agree with it.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { EXIT_CODE_DOCS, UsageError, exitCodeFor } from '../cli/exit-codes.ts';
import { errorFromWire, errorToWire } from '../protocol/wire-errors.ts';
import { toHttpError } from '../server/http-errors.ts';
import { WorkerShutdownError } from '../worker/worker.ts';
import { ALL_FIELDS, ERRORS, EXIT, errorSpec, type ErrorCode, type ErrorSpec } from './error-codes.ts';
import * as errorClasses from './errors.ts';
import {
  ClosedError, ConnectionLostError, ForbiddenError, InternalError, InvalidArgumentError, InvalidStateError, JobNotFoundError, PayloadTooLargeError, QueueBusyError, QueueNotFoundError, JobTimeoutError,
  AlertNotFoundError, ScheduleNotFoundError, SchemaTooNewError, SpoolError, StaleLeaseError, StoreUnavailableError, TokenNotFoundError, TooManyRequestsError, UnauthorizedError, UnavailableError,
  UnrecoverableError, UnsupportedVersionError, DrainTimeoutError, JobWaitTimeoutError, JobFailedError, QueueFullError,
} from './errors.ts';

const ROOT = join(import.meta.dirname, '..', '..');
const CODES = Object.keys(ERRORS) as ErrorCode[];
const spec = (code: ErrorCode): ErrorSpec => ERRORS[code];

// A code the registry does not list must not even compile.
function unregisteredCodeDoesNotCompile(): SpoolError {
  // @ts-expect-error: 'NOT_A_CODE' is not an ErrorCode
  return new SpoolError('NOT_A_CODE', 'x');
}
void unregisteredCodeDoesNotCompile;

/** One error of each code, as the code that raises it builds it; a plain SpoolError for a code without a class. */
const SAMPLES: Record<ErrorCode, () => SpoolError> = {
  INVALID_ARGUMENT: () => new InvalidArgumentError('visibilityTimeoutMs', 'visibilityTimeoutMs must be at least 1000'),
  UNSUPPORTED_VERSION: () => new UnsupportedVersionError('this broker speaks protocol version 1, not 2'),
  HELLO_REQUIRED: () => new SpoolError('HELLO_REQUIRED', 'send a hello frame first'),
  UNAUTHORIZED: () => new UnauthorizedError('no token'),
  FORBIDDEN: () => new ForbiddenError('publish:orders.eu'),
  JOB_NOT_FOUND: () => new JobNotFoundError('01J0000000000000000000000A'),
  TOKEN_NOT_FOUND: () => new TokenNotFoundError('0123456789ab'),
  ALERT_NOT_FOUND: () => new AlertNotFoundError('orders-stuck'),
  SCHEDULE_NOT_FOUND: () => new ScheduleNotFoundError('nightly'),
  NOT_FOUND: () => new SpoolError('NOT_FOUND', 'no route GET /v2'),
  STALE_LEASE: () => new StaleLeaseError('01J0000000000000000000000A', 3, 'completed', 4),
  INVALID_STATE: () => new InvalidStateError('01J0000000000000000000000A', 'completed', 'cannot retry a completed job'),
  PAYLOAD_TOO_LARGE: () => new PayloadTooLargeError(2_000_000, 1_048_576, 'result'),
  UNSUPPORTED_MEDIA_TYPE: () => new SpoolError('UNSUPPORTED_MEDIA_TYPE', 'Unsupported Media Type: text/plain'),
  TOO_MANY: () => new TooManyRequestsError('more than 100 requests of this connection are in progress', 10),
  INTERNAL: () => new InternalError(),
  STORE_UNAVAILABLE: () => new StoreUnavailableError('disk full'),
  CLOSED: () => new ClosedError(),
  QUEUE_NOT_FOUND: () => new QueueNotFoundError('ordres'),
  UNAVAILABLE: () => new UnavailableError('could not reach a broker at ws://127.0.0.1:1/v1/ws within 300 ms'),
  CONNECTION_LOST: () => new ConnectionLostError(),
  SCHEMA_TOO_NEW: () => new SchemaTooNewError('spool.db', 9, 3),
  UNRECOVERABLE: () => new UnrecoverableError('user 7 does not exist'),
  TIMEOUT: () => new JobTimeoutError('01900000-0000-7000-8000-000000000000', 5000),
  DRAIN_TIMEOUT: () => new DrainTimeoutError('orders', 30_000, { ready: 2, scheduled: 0, active: 1 }),
  JOB_WAIT_TIMEOUT: () => new JobWaitTimeoutError('01900000-0000-7000-8000-000000000000', 'active', 5000),
  JOB_FAILED: () => new JobFailedError('01900000-0000-7000-8000-000000000000', 'dead', 'card declined'),
  SHUTDOWN: () => new WorkerShutdownError(),
  USAGE: () => new UsageError('unknown flag --nope'),
  QUEUE_FULL: () => new QueueFullError('orders', 10, 1000),
};

/** Classes that share a code with another (a subclass), each sent and rebuilt by its fields. */
const MORE_SAMPLES: readonly (() => SpoolError)[] = [() => new QueueBusyError('orders.eu', 2)];

/** Classes that never cross the wire, so no client rebuilds them; their codes are never sent by a broker. */
const LOCAL_ONLY: readonly (abstract new (...args: never[]) => SpoolError)[] = [UsageError, WorkerShutdownError, JobTimeoutError, DrainTimeoutError, JobWaitTimeoutError, JobFailedError];

// ---------------------------------------------------------------------------------------
// (a) Every code raised in src/ is registered.

/** Codes that are not Spool's, compared against errors of Node.js and PostgreSQL. Each needs its reason. */
const FOREIGN_CODES: ReadonlyMap<string, string> = new Map([
  ['EPIPE', 'Node.js: stdout closed under the CLI'],
  ['ECONNREFUSED', 'Node.js: a dial error of the client'],
  ['ENOENT', 'Node.js: no WAL file to sync yet (nothing written to it)'],
  ['ERR_MODULE_NOT_FOUND', 'Node.js: the optional peer @opentelemetry/api is not installed (tracing off)'],
  ['53100', 'PostgreSQL SQLSTATE disk_full'],
]);

/** Codes built at run time from a template, which no table can list; each known site, with why it is left. */
const KNOWN_DYNAMIC: readonly string[] = [
  // A refusal at the WebSocket upgrade whose body is not JSON (a proxy's page): the client names it by status.
  'src/client/connection.ts: code: `HTTP_${',
];

interface Found {
  code: string;
  file: string;
  line: number;
  /** The HTTP status written next to the code, where one is. */
  status?: number;
}

const PATTERNS: readonly RegExp[] = [
  /new\s+SpoolError\(\s*'([^']*)'/g, // new SpoolError('X', …)
  /\bsuper\(\s*'([A-Z][A-Z0-9_]*)'/g, // super('X', …) in a SpoolError subclass (lower-case first arguments are fields)
  /\bcode:\s*'([^']*)'/g, // { code: 'X', … }
  /(?<!typeof [\w.?]*)\bcode\s*[!=]==?\s*'([^']*)'/g, // err.code === 'X' (not typeof err.code === 'string')
  /'([^']*)'\s*[!=]==?\s*[\w.?]*\bcode\b/g, // 'X' === err.code
];
/** A status next to a code: refuse(socket, 404, 'NOT_FOUND', …), reply.status(404).send({ code: 'NOT_FOUND' … */
const STATUS_PATTERNS: readonly RegExp[] = [/\b([1-5]\d\d),\s*'([A-Z][A-Z0-9_]*)'/g, /status\(([1-5]\d\d)\)\.send\(\{\s*code:\s*'([^']*)'/g];
/** ['A', 'B'].includes(x.code) */
const LIST_PATTERN = /\[((?:\s*'[^']*'\s*,?)+)\]\.includes\([\w.?]*\bcode\)/g;

function sourceFiles(): string[] {
  return (readdirSync(join(ROOT, 'src'), { recursive: true }) as string[])
    .filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts'))
    .map((f) => join('src', f).replaceAll('\\', '/'))
    .sort();
}

function lineOf(text: string, index: number): number {
  return text.slice(0, index).split('\n').length;
}

/** Every code literal raised or compared in src/ (not tests), with where it is. */
function scanSources(files = sourceFiles()): { found: Found[]; dynamic: string[] } {
  const found: Found[] = [];
  const dynamic: string[] = [];
  for (const file of files) {
    const text = readFileSync(join(ROOT, file), 'utf8');
    for (const re of PATTERNS) for (const m of text.matchAll(re)) found.push({ code: m[1]!, file, line: lineOf(text, m.index) });
    for (const re of STATUS_PATTERNS) {
      for (const m of text.matchAll(re)) found.push({ code: m[2]!, file, line: lineOf(text, m.index), status: Number(m[1]) });
    }
    for (const m of text.matchAll(LIST_PATTERN)) {
      for (const c of m[1]!.matchAll(/'([^']*)'/g)) found.push({ code: c[1]!, file, line: lineOf(text, m.index) });
    }
    for (const m of text.matchAll(/\bcode:\s*`([^`]{0,8})/g)) dynamic.push(`${file}: code: \`${m[1]}`);
  }
  return { found, dynamic };
}

/** The findings that are not registered codes (nor known foreign ones), as `file:line CODE`. */
function unregistered(found: readonly Found[]): string[] {
  return found.filter((f) => !errorSpec(f.code) && !FOREIGN_CODES.has(f.code)).map((f) => `${f.file}:${f.line} ${f.code}`);
}

describe('every code raised in src/ is in ERRORS', () => {
  const { found, dynamic } = scanSources();

  it('finds the codes (the scan itself works)', () => {
    const codes = new Set(found.map((f) => f.code));
    // One of each kind of site: super(), { code: }, a comparison, a status next to a code, a list, a foreign code.
    for (const code of ['STALE_LEASE', 'HELLO_REQUIRED', 'UNRECOVERABLE', 'NOT_FOUND', 'UNSUPPORTED_VERSION', 'EPIPE']) {
      assert.ok(codes.has(code), `the scan of src/ did not find ${code}: are the patterns still right?`);
    }
    assert.ok(found.length > 30, `only ${found.length} code sites found`);
  });

  it('lists every code literal raised or compared', () => {
    assert.deepEqual(unregistered(found), [], 'codes raised in src/ that ERRORS (src/core/error-codes.ts) does not list: add them there');
  });

  it('builds no code at run time but the known ones', () => {
    assert.deepEqual(dynamic.filter((d) => !KNOWN_DYNAMIC.some((k) => d.startsWith(k))), [], 'a code built from a template cannot be registered');
  });

  it('writes the registered status next to a code', () => {
    const wrong = found.filter((f) => f.status !== undefined && errorSpec(f.code) && errorSpec(f.code)!.status !== f.status);
    assert.deepEqual(wrong.map((f) => `${f.file}:${f.line} ${f.status} ${f.code} (ERRORS says ${errorSpec(f.code)!.status})`), []);
  });

  it('lists no code that nothing in src/ raises', () => {
    const text = sourceFiles().filter((f) => f !== 'src/core/error-codes.ts').map((f) => readFileSync(join(ROOT, f), 'utf8')).join('\n');
    assert.deepEqual(CODES.filter((code) => !text.includes(`'${code}'`)), []);
  });

  it('fails on an unregistered code (the check is not vacuous)', () => {
    const probe = [
      `throw new SpoolError('NOPE_0', 'x');`,
      `class X extends SpoolError { constructor() { super('NOPE_1', 'x'); } }`,
      `send({ op: 'error', error: { code: 'NOPE_2', message } });`,
      `if (err.code === 'NOPE_3' && typeof err.code === 'string') return;`,
      `if ('NOPE_4' !== e?.code) return;`,
      `refuse(socket, 418, 'NOPE_5', 'teapot');`,
      `if (['UNAUTHORIZED', 'NOPE_6'].includes(frame.error.code)) return;`,
    ];
    const found: Found[] = [];
    const text = probe.join('\n');
    for (const re of PATTERNS) for (const m of text.matchAll(re)) found.push({ code: m[1]!, file: 'probe', line: lineOf(text, m.index) });
    for (const re of STATUS_PATTERNS) for (const m of text.matchAll(re)) found.push({ code: m[2]!, file: 'probe', line: lineOf(text, m.index) });
    for (const m of text.matchAll(LIST_PATTERN)) for (const c of m[1]!.matchAll(/'([^']*)'/g)) found.push({ code: c[1]!, file: 'probe', line: 7 });
    assert.deepEqual(new Set(unregistered(found).map((u) => u.split(' ')[1])), new Set(['NOPE_0', 'NOPE_1', 'NOPE_2', 'NOPE_3', 'NOPE_4', 'NOPE_5', 'NOPE_6']));
  });
});

// ---------------------------------------------------------------------------------------
// (b) Every code survives the wire, and its status and exit code are the registry's.

describe('each code through the wire, HTTP and the CLI', () => {
  for (const code of CODES) {
    it(code, () => {
      const err = SAMPLES[code]();
      const s = spec(code);
      assert.equal(err.code, code);
      for (const field of s.fields) assert.ok(field in err, `${err.constructor.name} has no field ${field}, which ERRORS says ${code} carries`);

      const wire = errorToWire(err);
      const sent = Object.fromEntries(s.fields.flatMap((f) => ((err as unknown as Record<string, unknown>)[f] === undefined ? [] : [[f, (err as unknown as Record<string, unknown>)[f]]])));
      assert.deepEqual(wire, { code, message: err.message, ...sent });
      const back = errorFromWire(JSON.parse(JSON.stringify(wire)));
      assert.equal(back.code, code);
      assert.equal(back.message, err.message);
      for (const field of s.fields) assert.deepEqual((back as unknown as Record<string, unknown>)[field], (err as unknown as Record<string, unknown>)[field], field);
      if (s.rebuild || err.constructor === SpoolError) {
        assert.equal(back.constructor, err.constructor, `${code} comes back as ${back.constructor.name}, not ${err.constructor.name}`);
      } else {
        assert.ok(LOCAL_ONLY.includes(err.constructor as never), `${err.constructor.name} has no rebuild in ERRORS: a remote Spool would not give it back`);
        assert.equal(s.status, null, `${code} is sent by a broker, so its class must be rebuilt`);
        assert.equal(back.constructor, SpoolError);
      }
      assert.ok(back instanceof SpoolError);

      const http = toHttpError(err);
      assert.equal(http.status, s.status ?? 500);
      assert.deepEqual(http.body, wire);
      assert.equal(exitCodeFor(err), s.exit);
      assert.equal(exitCodeFor(back), s.exit);
    });
  }

  it('a subclass sharing a code comes back as itself, with its fields', () => {
    for (const make of MORE_SAMPLES) {
      const err = make();
      const back = errorFromWire(JSON.parse(JSON.stringify(errorToWire(err))));
      assert.equal(back.constructor, err.constructor);
      for (const field of spec(err.code).fields) assert.deepEqual((back as unknown as Record<string, unknown>)[field], (err as unknown as Record<string, unknown>)[field], field);
    }
  });

  it('every SpoolError class in errors.ts has a sample', () => {
    const sampled = new Set([...Object.values(SAMPLES), ...MORE_SAMPLES].map((make) => make().constructor));
    const classes = Object.values(errorClasses).filter((v) => typeof v === 'function' && (v === SpoolError || v.prototype instanceof SpoolError));
    assert.deepEqual(classes.filter((c) => !sampled.has(c as never)).map((c) => (c as { name: string }).name), []);
  });

  it('keeps a code it does not know, with its fields (a newer broker)', () => {
    const back = errorFromWire({ code: 'FROM_THE_FUTURE', message: 'later', retryAfterMs: 25, jobId: 'j' });
    assert.equal(back.constructor, SpoolError);
    assert.equal(back.code as string, 'FROM_THE_FUTURE');
    assert.equal(back.message, 'later');
    assert.deepEqual({ retryAfterMs: (back as unknown as { retryAfterMs: number }).retryAfterMs, jobId: (back as unknown as { jobId: string }).jobId }, { retryAfterMs: 25, jobId: 'j' });
    assert.equal(toHttpError(back).status, 500);
    assert.equal(exitCodeFor(back), EXIT.INTERNAL);
    assert.deepEqual(errorToWire(back), { code: 'FROM_THE_FUTURE', message: 'later', retryAfterMs: 25, jobId: 'j' });
  });

  it('anything but a SpoolError is INTERNAL, without its message', () => {
    assert.deepEqual(errorToWire(new Error('secret')), { code: 'INTERNAL', message: 'internal error; see the broker log' });
    assert.equal(toHttpError(new Error('secret')).status, 500);
    assert.equal(exitCodeFor(new Error('secret')), EXIT.INTERNAL);
    assert.equal(spec('INTERNAL').status, 500);
  });

  it('--help names the error codes of each exit code', () => {
    for (const [exit, doc] of EXIT_CODE_DOCS) {
      if (exit === EXIT.INTERNAL) continue;
      for (const code of CODES.filter((c) => spec(c).exit === exit)) assert.ok(doc.includes(code), `exit ${exit}: "${doc}" does not name ${code}`);
    }
  });
});

// ---------------------------------------------------------------------------------------
// The docs agree with the registry.

/** The section of a Markdown file from `heading` to the next heading of its level. */
function section(file: string, heading: string): string {
  const text = readFileSync(join(ROOT, file), 'utf8');
  const start = text.indexOf(`\n${heading}\n`);
  assert.ok(start >= 0, `${file} has no "${heading}"`);
  const level = heading.split(' ')[0]!;
  const end = text.indexOf(`\n${level} `, start + heading.length + 1);
  return text.slice(start, end < 0 ? undefined : end);
}

/** The rows of the Markdown tables in `text` whose header starts with `header`, as cells. */
function tableRows(text: string, header: string): string[][] {
  const rows: string[][] = [];
  let inTable = false;
  for (const line of text.split('\n')) {
    if (!line.startsWith('|')) {
      inTable = false;
      continue;
    }
    const cells = line.slice(1, -1).split('|').map((c) => c.trim());
    if (line.startsWith(header)) inTable = true;
    else if (inTable && !/^-+$/.test(cells[0]!.replaceAll(' ', ''))) rows.push(cells);
  }
  return rows;
}

const codesIn = (cell: string): string[] => [...cell.matchAll(/`([A-Z][A-Z0-9_]*)`/g)].map((m) => m[1]!);

describe('the docs list every code as ERRORS does', () => {
  it('docs/protocol.md: every code, with its status, and no other', () => {
    const errors = section('docs/protocol.md', '## Errors');
    const documented = new Map<string, number | null>();
    const classes = new Map<string, string>();
    for (const [status, cell] of tableRows(errors, '| status | code |')) {
      for (const code of codesIn(cell!)) documented.set(code, Number(status));
    }
    for (const [cell, cls] of tableRows(errors, '| code | class |')) {
      for (const code of codesIn(cell!)) {
        assert.ok(!documented.has(code), `${code} is in both tables`);
        documented.set(code, null);
        classes.set(code, cls!.replaceAll('`', ''));
      }
    }
    const wrong = CODES.filter((code) => documented.get(code) !== spec(code).status).map((code) =>
      `${code}: ERRORS says ${spec(code).status ?? 'no broker sends it'}, docs/protocol.md ${documented.has(code) ? documented.get(code) ?? 'no broker sends it' : 'does not list it'}`);
    assert.deepEqual(wrong, []);
    assert.deepEqual([...documented.keys()].filter((code) => !errorSpec(code)), [], 'codes in docs/protocol.md that ERRORS does not list');
    for (const [code, cls] of classes) assert.equal(cls, SAMPLES[code as ErrorCode]().constructor.name, `the class of ${code}`);
  });

  it('docs/protocol.md names every field that travels', () => {
    const intro = section('docs/protocol.md', '## Errors').split('\n|')[0]!;
    assert.deepEqual(ALL_FIELDS.filter((f) => !intro.includes(`\`${f}\``)), []);
  });

  it('docs/cli.md: the exit code of every code', () => {
    const rows = tableRows(section('docs/cli.md', '## Exit codes'), '| Code | Meaning |');
    const byExit = new Map(rows.map(([exit, , cell]) => [Number(exit), codesIn(cell ?? '')]));
    assert.deepEqual([...byExit.keys()].sort((a, b) => a - b), Object.values(EXIT).slice().sort((a, b) => a - b), 'one row per exit code');
    for (const [exit, codes] of byExit) {
      for (const code of codes) assert.equal(errorSpec(code)?.exit, exit, `docs/cli.md puts ${code} under exit ${exit}`);
    }
    for (const code of CODES) {
      const exit = spec(code).exit;
      if (exit !== EXIT.INTERNAL) assert.ok(byExit.get(exit)?.includes(code), `docs/cli.md does not list ${code} under exit ${exit}`);
    }
  });
});
