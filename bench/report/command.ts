/**
 * The command line a benchmark was started with, as a person would type it
 * again: `npm run bench:peers -- --write-docs` when npm started it (the
 * script's own arguments left out, since npm adds them), else
 * `node bench/run.ts --write-docs`.
 * @example
 * benchCommand(['--target', 'spool-server', '--write-docs'], process.env); // 'npm run bench -- --target spool-server --write-docs'
 */

/** Quotes an argument for a POSIX shell when it needs it. */
export function shellQuote(arg: string): string {
  return /^[\w@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replaceAll("'", `'\\''`)}'`;
}

/** The arguments that follow `bench/run.ts` in an npm script, up to the end of that command. */
function scriptArgs(script: string): string[] | null {
  const words = script.trim().split(/\s+/);
  const at = words.findIndex((w) => w.endsWith('bench/run.ts'));
  if (at < 0) return null;
  const rest: string[] = [];
  for (const w of words.slice(at + 1)) {
    if (['&&', '||', ';', '|'].includes(w)) break;
    rest.push(w);
  }
  return rest;
}

/**
 * The command that ran the bench with `argv` (the runner's arguments), from
 * npm's environment when npm started it (`npm_lifecycle_event`, `npm_lifecycle_script`).
 */
export function benchCommand(argv: readonly string[], env: Readonly<Record<string, string | undefined>>): string {
  const event = env.npm_lifecycle_event;
  const script = env.npm_lifecycle_script;
  if (event && script) {
    const own = scriptArgs(script);
    if (own !== null && own.every((w, i) => argv[i] === w)) {
      const user = argv.slice(own.length);
      return `npm run ${event}${user.length > 0 ? ` -- ${user.map(shellQuote).join(' ')}` : ''}`;
    }
  }
  return ['node bench/run.ts', ...argv.map(shellQuote)].join(' ');
}
