/**
 * Entry point of the `spool` command (`node src/cli/main.ts`, `npm start`, bin/spool.js).
 * Run `spool --help`, or read docs/cli.md.
 */
import { EXIT } from './exit-codes.ts';
import { isLongRunning, runCli } from './run.ts';

// A reader that closes the pipe early (spool jobs q | head) is not an error.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EPIPE') process.exit(EXIT.OK);
  throw err;
});

const argv = process.argv.slice(2);
const code = await runCli(argv);
// After a graceful stop, serve and work end the process even if a handler module left
// handles open (its own connections, timers); short commands just set the code and drain stdout.
if (isLongRunning(argv)) process.exit(code);
process.exitCode = code;
