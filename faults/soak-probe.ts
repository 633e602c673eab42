/** What the soak reads from outside its deployment: a process's RSS and open fds. */
import { readdirSync, readFileSync } from 'node:fs';

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
