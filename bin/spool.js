#!/usr/bin/env node
// The `spool` command of the installed package: runs the compiled CLI in dist/ (`npm run build`;
// `npm pack` and `npm publish` build first). In this repository, `npm run spool -- <args>` runs
// the TypeScript sources directly, with no build.

// package.json's engines: older versions lack node:sqlite, or bind its numbered parameters (?1) wrongly.
const [major = 0, minor = 0] = process.versions.node.split('.').map(Number);
if (!((major === 22 && minor >= 20) || (major === 24 && minor >= 7) || major >= 25)) {
  process.stderr.write(`spool: Node.js ${process.version} is not supported: use Node.js 22.20 or newer on the 22 line, or 24.7 or newer.\n`);
  process.exit(1);
}
try {
  await import('../dist/cli/main.js');
} catch (err) {
  const missing = err?.code === 'ERR_MODULE_NOT_FOUND' && String(err.message).includes('dist/cli/main.js');
  if (!missing) throw err;
  process.stderr.write('spool: dist/ is missing: run `npm run build` first (or `npm run spool -- <args>` to run the sources).\n');
  process.exit(1);
}
