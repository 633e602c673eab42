/**
 * The layers' rules, read off the import statements of every source file (tests excepted):
 * the server and the remote client see the engine only through the public contract and the
 * broker's host interface, never the engine class; the engine, the stores and the core never
 * import a transport or the client. A new import that breaks a rule fails here, naming it.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, it } from 'node:test';

const SRC = resolve(import.meta.dirname, '../src');

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name);
    if (e.isDirectory()) return sourceFiles(path);
    return /\.(ts|js)$/.test(e.name) && !/\.test\.ts$/.test(e.name) ? [path] : [];
  });
}

/** Every relative import of a file (`import … from`, `export … from`, `import(…)`), as paths under src/. */
function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const specs = [...text.matchAll(/(?:^|\n)\s*(?:import|export)[^'"`;]*?from\s+'([^']+)'|import\('([^']+)'\)/g)].map((m) => m[1] ?? m[2]!);
  return specs.filter((s) => s.startsWith('.')).map((s) => relative(SRC, resolve(dirname(file), s)));
}

const graph = sourceFiles(SRC).map((file) => ({ file: relative(SRC, file), imports: importsOf(file) }));

/** Imports from files under one of `from` to a path matching `to`, as "file → import". */
function violations(from: readonly string[], to: RegExp, except: readonly string[] = []): string[] {
  return graph
    .filter((f) => from.some((dir) => f.file.startsWith(dir)) && !except.some((dir) => f.file.startsWith(dir)))
    .flatMap((f) => f.imports.filter((i) => to.test(i)).map((i) => `${f.file} → ${i}`));
}

describe('layering (imports of src/)', () => {
  it('reads the imports it checks (the walk finds the server importing its host interface)', () => {
    assert.ok(graph.length > 100, `only ${graph.length} source files found`);
    assert.ok(graph.find((f) => f.file === 'server/broker.ts')?.imports.includes('server/host.ts'));
  });

  it('the server, the remote client and the API contract never import the engine class', () => {
    assert.deepEqual(violations(['server/', 'client/', 'api/'], /^engine\/spool\.ts$/), []);
  });

  it('the engine, the stores and the core never import the server or the remote client (the conformance suite runs through both)', () => {
    assert.deepEqual(violations(['engine/', 'store/', 'core/'], /^(server|client)\//, ['store/conformance/']), []);
  });

  it('the API contract imports no transport', () => {
    assert.deepEqual(violations(['api/'], /^(server|client)\//), []);
  });
});
