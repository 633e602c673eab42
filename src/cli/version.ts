import { readFileSync } from 'node:fs';

/**
 * package.json, found relative to this module: `src/cli/version.ts` and a build's
 * `dist/cli/version.js` are both two directories below the package root, in the
 * repository and in an installed package alike.
 */
const PACKAGE_JSON = new URL('../../package.json', import.meta.url);

/**
 * The version of the installed `spool-queue` package, as `spool --version` prints it.
 * @example
 * packageVersion(); // '0.1.0'
 */
export function packageVersion(): string {
  const pkg = JSON.parse(readFileSync(PACKAGE_JSON, 'utf8')) as { version?: unknown };
  if (typeof pkg.version !== 'string') throw new Error(`${PACKAGE_JSON.pathname} has no version`);
  return pkg.version;
}
