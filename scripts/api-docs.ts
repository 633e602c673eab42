// `npm run docs:api`: writes the API reference, docs/api/ (Markdown, committed so it reads on
// GitHub without a build; the package does not ship it), from the TSDoc of the package's public entry points. Run it
// after changing a public type or its doc comment; test/api-docs.test.ts fails while the
// committed docs/api/ differs from what this writes, and on any broken link in it.
//
// Why a script and not the `typedoc` command: TypeDoc needs TypeScript 5.x–6.0 and the
// repository's typescript is 7 (the Go compiler, with no JavaScript compiler API). So TypeDoc,
// its Markdown plugin and a TypeScript 6 live in a package of their own, scripts/apidoc (the
// root's dev dependency "apidoc": "file:scripts/apidoc"), where TypeDoc resolves its own
// TypeScript; this script loads TypeDoc from there and holds every option in one place.
//
// Usage: node scripts/api-docs.ts [output directory, default docs/api]. The output directory
// is emptied first. Any TypeDoc warning fails the run (exit code 1): a {@link} that resolves
// to nothing, or a public signature that names a type the entry points do not export.
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const root = join(import.meta.dirname, '..');
const out = resolve(process.argv[2] ?? join(root, 'docs', 'api'));
const apidoc = createRequire(join(root, 'scripts', 'apidoc', 'package.json'));

/** The part of TypeDoc's API this script uses (its own types are TypeScript 6's, outside this project's check). */
interface Logger {
  hasErrors(): boolean;
  hasWarnings(): boolean;
}
interface Application {
  logger: Logger;
  convert(): Promise<object | undefined>;
  validate(project: object): void;
  generateOutputs(project: object): Promise<void>;
}
interface TypeDoc {
  Application: { bootstrapWithPlugins(options: Record<string, unknown>, readers: object[]): Promise<Application> };
  TSConfigReader: new () => object;
}

/**
 * Types the public API names but its entry points do not export (yet): each is shown as its bare
 * name, without a page. TypeDoc fails on any other such type (a new one must be exported, or
 * added here knowingly) and on an entry here that is exported or no longer referenced (remove it).
 */
const NOT_EXPORTED = [
  'src/core/error-codes.ts:ERRORS',
  'src/core/clock.ts:TimerHandle',
  'src/server/log-output.ts:LOG_FORMATS',
  'src/server/log-output.ts:LogSink',
  'src/api/operations.ts:Action',
];

let typedocPath: string;
try {
  typedocPath = apidoc.resolve('typedoc');
} catch {
  console.error('docs:api: TypeDoc is not installed in scripts/apidoc/node_modules: run npm install (or npm ci) at the root');
  process.exit(1);
}
const typedoc = (await import(pathToFileURL(typedocPath).href)) as TypeDoc;
const started = performance.now();
const app = await typedoc.Application.bootstrapWithPlugins(
  {
    // The package's entry points (package.json "exports"), each a module of the reference.
    entryPoints: ['src/index.ts', 'src/server/index.ts', 'src/store/conformance/index.ts'].map((file) => join(root, file)),
    tsconfig: join(root, 'tsconfig.build.json'),
    // `tsc --noEmit -p .` type-checks (npm test); TypeDoc only reads the declarations.
    skipErrorChecking: true,
    plugin: [apidoc.resolve('typedoc-plugin-markdown')],
    out,
    name: 'spool-queue',
    // The index page: this intro, then the list of modules.
    readme: join(root, 'scripts', 'apidoc', 'index.md'),
    mergeReadme: true,
    excludePrivate: true,
    excludeInternal: true,
    excludeExternals: true,
    // Deterministic output, compared with the committed copy: no source links (they would
    // carry a git revision), no version, no dates.
    disableSources: true,
    includeVersion: false,
    validation: { notExported: true, invalidLink: true, notDocumented: false },
    intentionallyNotExported: NOT_EXPORTED,
    treatWarningsAsErrors: true,
    // typedoc-plugin-markdown: README.md is the index GitHub shows for the folder.
    entryFileName: 'README.md',
    hidePageHeader: true,
    parametersFormat: 'table',
    // Declarations as ```ts blocks.
    useCodeBlocks: true,
  },
  [new typedoc.TSConfigReader()],
);

/** TypeDoc's own CLI steps (convert, validate, write), stopping at the first warning or error. */
async function build(): Promise<boolean> {
  const failed = () => app.logger.hasErrors() || app.logger.hasWarnings();
  if (failed()) return false;
  const project = await app.convert();
  if (!project || failed()) return false;
  app.validate(project);
  if (failed()) return false;
  await app.generateOutputs(project);
  return !failed();
}

if (!(await build())) {
  console.error(
    'docs:api: TypeDoc reported the problems above (warnings count as errors). A broken {@link}: fix the doc comment. ' +
      '"referenced by … but not included in the documentation": export that type from the entry point, or list it in NOT_EXPORTED in scripts/api-docs.ts.',
  );
  process.exit(1);
}
// The plugin leaves a space at the end of a wrapped signature's lines: dropped, so the
// committed files pass `git diff --check`.
for (const file of readdirSync(out, { recursive: true, encoding: 'utf8' }).filter((name) => name.endsWith('.md'))) {
  const text = readFileSync(join(out, file), 'utf8');
  const trimmed = text.replace(/[ \t]+$/gm, '');
  if (trimmed !== text) writeFileSync(join(out, file), trimmed);
}
console.log(`docs:api: wrote ${out} in ${((performance.now() - started) / 1000).toFixed(1)} s`);
