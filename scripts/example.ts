// `npm run example -- <name>` runs examples/<name>.ts with the repository's pinned Node (the
// `node` dev dependency, which npm scripts put first on the PATH), whatever the system Node is.
// `npm run example` alone lists the examples.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

const dir = join(import.meta.dirname, '..', 'examples');
const names = readdirSync(dir).filter((f) => f.endsWith('.ts')).map((f) => f.slice(0, -'.ts'.length)).sort();
const [name, ...args] = process.argv.slice(2);
const usage = `usage: npm run example -- <name> [args…]\nexamples: ${names.join(', ')}`;

if (name === undefined || name === '--help' || name === '-h') {
  console.log(usage);
  process.exit(name === undefined ? 1 : 0);
}
const file = join(dir, `${name.replace(/^examples\//, '').replace(/\.ts$/, '')}.ts`);
if (!existsSync(file)) {
  console.error(`no example named ${JSON.stringify(name)}\n${usage}`);
  process.exit(1);
}
const result = spawnSync(process.execPath, [file, ...args], { stdio: 'inherit' });
if (result.error) throw result.error;
process.exit(result.status ?? 1);
