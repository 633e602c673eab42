/**
 * Summarises V8 CPU profiles (`.cpuprofile`, as `npm run bench -- --cpu-prof DIR` writes them):
 * where the process spent its CPU time, by self time, grouped by part (Spool's own layers,
 * each dependency, Node's internals, native work such as SQLite and garbage collection) and by
 * function. Self time is what a function ran itself, not what it called, so the parts add up to
 * the whole.
 *
 *   node bench/profile-summary.ts DIR/W3-1-broker.cpuprofile [more profiles…] [--top 15]
 *
 * Several profiles are added together (e.g. the runs of one workload).
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

interface CallFrame { functionName: string; url: string; lineNumber: number }
interface ProfileNode { id: number; callFrame: CallFrame }
export interface CpuProfile { nodes: ProfileNode[]; samples: number[]; timeDeltas: number[] }

/** A row of the summary: a name, its self time in ms, and its share of the whole. */
export interface Row { name: string; ms: number; share: number }

/**
 * The part of the program a frame belongs to: `src/<layer>` for Spool's own code, the package
 * name for a dependency, `node:<module>` for Node's, and V8's own entries ((garbage
 * collector), (program), (idle)) as they are. A frame without a URL is native code called from
 * JavaScript (SQLite's statements run there), named by its function.
 */
export function partOf(frame: CallFrame): string {
  const { url, functionName } = frame;
  if (url === '') return functionName.startsWith('(') ? functionName : `native: ${functionName || '(anonymous)'}`;
  const dep = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (dep) return dep[1]!;
  if (url.startsWith('node:')) return url.split('/')[0]!;
  const own = /\/src\/([^/]+)\//.exec(url);
  if (own) return `src/${own[1]}`;
  return url.replace(/^file:\/\//, '');
}

/** Self time (ms) per part and per function (`name file:line`), of the profiles together. */
export function summarise(profiles: readonly CpuProfile[]): { total: number; parts: Row[]; functions: Row[] } {
  const parts = new Map<string, number>();
  const functions = new Map<string, number>();
  let total = 0;
  for (const p of profiles) {
    const byId = new Map(p.nodes.map((n) => [n.id, n.callFrame]));
    p.samples.forEach((id, i) => {
      // Each sample's time is the delta to the next one (the last sample has none: it is left out).
      const ms = (p.timeDeltas[i + 1] ?? 0) / 1000;
      const f = byId.get(id);
      if (!f || ms <= 0) return;
      total += ms;
      const part = partOf(f);
      parts.set(part, (parts.get(part) ?? 0) + ms);
      const file = f.url ? `${f.url.replace(/^.*\/(src|node_modules)\//, '$1/')}:${f.lineNumber + 1}` : '';
      const fn = `${f.functionName || '(anonymous)'} ${file}`.trim();
      functions.set(fn, (functions.get(fn) ?? 0) + ms);
    });
  }
  const rows = (m: Map<string, number>) => [...m].map(([name, ms]) => ({ name, ms, share: total > 0 ? ms / total : 0 })).sort((a, b) => b.ms - a.ms);
  return { total, parts: rows(parts), functions: rows(functions) };
}

function table(rows: readonly Row[], top: number): string {
  return rows.slice(0, top).map((r) => `${(r.share * 100).toFixed(1).padStart(5)} %  ${r.ms.toFixed(0).padStart(7)} ms  ${r.name}`).join('\n');
}

if (import.meta.main) {
  const { values, positionals } = parseArgs({ options: { top: { type: 'string', default: '15' } }, allowPositionals: true });
  if (positionals.length === 0) {
    console.error('usage: node bench/profile-summary.ts PROFILE.cpuprofile [more…] [--top N]');
    process.exit(2);
  }
  const top = Number(values.top);
  const s = summarise(positionals.map((f) => JSON.parse(readFileSync(f, 'utf8')) as CpuProfile));
  console.log(`${positionals.length} profile(s), ${s.total.toFixed(0)} ms of samples\n\nby part (self time):\n${table(s.parts, top)}\n\nby function (self time):\n${table(s.functions, top)}`);
}
