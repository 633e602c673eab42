import { parseArgs, type ParseArgsOptionDescriptor } from 'node:util';
import { UsageError } from './exit-codes.ts';
import type { OptionValues } from './command.ts';
import { oneLine } from './output.ts';

/** Options every command accepts. */
export const GLOBAL_OPTIONS = {
  store: { type: 'string' },
  schema: { type: 'string' },
  url: { type: 'string' },
  token: { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const satisfies Record<string, ParseArgsOptionDescriptor>;

/** The lines `spool --help` prints for the global options. */
export const GLOBAL_OPTIONS_HELP = `  --store <spec>   where jobs live: a data directory, a .db file, sqlite:<path>, memory,
                   or postgres://user:password@host:port/database
                   (default: $SPOOL_STORE, else ./spool-data)
  --schema <name>  PostgreSQL: the schema holding Spool's tables (default: $SPOOL_SCHEMA, else spool)
  --url <url>      run the command through a broker (spool serve) at http(s)://host:port
                   instead of opening a store (default: $SPOOL_URL); job and queue commands
                   and work only; not with --store
  --token <token>  the broker's API token, with --url (default: $SPOOL_TOKEN)
  --json           print results as JSON to stdout, one per line (errors as {"error":{"code","message"}});
                   serve's log and the output of work's handler go to stdout too
  -h, --help       show help`;

/** Global options that take a value as the next argument. */
const VALUE_OPTIONS: ReadonlySet<string> = new Set(['--store', '--schema', '--url', '--token']);

/**
 * Finds the command name: the first argument that is neither an option nor the value of a
 * global option (`--store <spec>`). Returns its index, or -1.
 */
export function findCommand(argv: readonly string[]): number {
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--') return i + 1 < argv.length ? i + 1 : -1;
    if (VALUE_OPTIONS.has(a)) i++;
    else if (!a.startsWith('-')) return i;
  }
  return -1;
}

export interface ParsedArgs {
  positionals: string[];
  options: OptionValues;
  store: string | undefined;
  schema: string | undefined;
  url: string | undefined;
  token: string | undefined;
  json: boolean;
  help: boolean;
}

/**
 * Parses the arguments around a command with its options and the global ones, strictly:
 * an unknown flag or a missing value is a UsageError.
 */
export function parseCommandArgs(args: readonly string[], options: Readonly<Record<string, ParseArgsOptionDescriptor>>): ParsedArgs {
  let parsed;
  try {
    parsed = parseArgs({ args: [...args], options: { ...options, ...GLOBAL_OPTIONS }, allowPositionals: true, strict: true });
  } catch (err) {
    throw new UsageError(oneLine((err as Error).message), { cause: err });
  }
  const { store, schema, url, token, json, help, ...rest } = parsed.values as Record<string, string | boolean | string[] | undefined>;
  return {
    positionals: parsed.positionals,
    options: rest,
    store: typeof store === 'string' ? store : undefined,
    schema: typeof schema === 'string' ? schema : undefined,
    url: typeof url === 'string' ? url : undefined,
    token: typeof token === 'string' ? token : undefined,
    json: json === true,
    help: help === true,
  };
}

/**
 * Reads an integer option; bounds are the engine's to check (it names them).
 * @throws UsageError when the text is not an integer.
 * @example
 * integerOption(ctx.options, 'priority'); // 5 for --priority 5, undefined when absent
 */
export function integerOption(options: OptionValues, name: string): number | undefined {
  const value = options[name];
  if (typeof value !== 'string') return undefined;
  if (!/^[-+]?\d+$/.test(value.trim())) throw new UsageError(`--${name} must be an integer (got ${JSON.stringify(value)})`);
  return Number(value);
}

const DURATION_UNITS_MS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

/**
 * Reads a duration option: a whole number of milliseconds, or a whole number and a unit, ms, s,
 * m, h or d (`1500`, `30s`, `15m`, `2h`). Bounds are the caller's to check.
 * @throws UsageError when the text is neither.
 * @example
 * durationOption(ctx.options, 'timeout'); // 30000 for --timeout 30s, undefined when absent
 */
export function durationOption(options: OptionValues, name: string): number | undefined {
  const value = options[name];
  if (typeof value !== 'string') return undefined;
  const match = /^\s*(\d{1,15})\s*(ms|s|m|h|d)?\s*$/.exec(value);
  if (!match) throw new UsageError(`--${name} must be a whole number of milliseconds, or with a unit, ms, s, m, h or d, e.g. --${name} 30s (got ${JSON.stringify(value)})`);
  return Number(match[1]) * DURATION_UNITS_MS[(match[2] ?? 'ms') as keyof typeof DURATION_UNITS_MS];
}

/** Reads a string option. */
export function stringOption(options: OptionValues, name: string): string | undefined {
  const value = options[name];
  return typeof value === 'string' ? value : undefined;
}

/**
 * Reads an option given any number of times (declared with `multiple: true`).
 * @example
 * stringsOption(ctx.options, 'scope'); // ['publish:a', 'admin'] for --scope publish:a --scope admin
 */
export function stringsOption(options: OptionValues, name: string): string[] {
  const value = options[name];
  return typeof value === 'string' ? [value] : Array.isArray(value) ? [...(value as readonly string[])] : [];
}

/** A comma-separated list of resource tags (`--requires`, `spool work --tags`); empty items are dropped, checkResourceTags checks the rest. */
export function tagList(text: string): string[] {
  return text.split(',').map((t) => t.trim()).filter((t) => t !== '');
}
