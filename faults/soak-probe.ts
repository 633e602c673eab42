/** What the soak reads from outside its deployment: a process's RSS and open fds. */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/** /proc figures of one process; null once it is gone. */
export function sampleOf(pid: number): { rssKb: number; fds: number } | null {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const rss = /VmRSS:\s+(\d+)/.exec(status);
    if (!rss) return null; // a zombie has no RSS line
    return { rssKb: Number(rss[1]), fds: readdirSync(`/proc/${pid}/fd`).length };
  } catch {
    return null;
  }
}

/**
 * The young generation's size, kB, in the last line of the process's heap log (faults/soak-gc.ts
 * writes one every 10 s into `dir`), or undefined before its first line.
 */
export function youngGenerationKb(dir: string, pid: number): number | undefined {
  let text: string;
  try {
    text = readFileSync(join(dir, `${pid}.jsonl`), 'utf8');
  } catch {
    return undefined;
  }
  const last = text.trimEnd().split('\n').at(-1);
  if (!last) return undefined;
  const spaces = (JSON.parse(last) as { spaces?: Record<string, number> }).spaces ?? {};
  return Math.round(((spaces.new_space ?? 0) + (spaces.new_large_object_space ?? 0)) * 1024);
}
