/**
 * Small text formatting for the CLI: aligned tables, times, durations and a
 * progress line. Machine-readable output is `--json`, never these.
 */

/** Longest cell a table prints; longer text is cut with an ellipsis. */
export const TABLE_CELL_MAX_CHARS = 60;

/**
 * Renders rows as left-aligned columns separated by two spaces, with a header row.
 * Numbers-only columns are right-aligned.
 * @example
 * table(['QUEUE', 'READY'], [['emails', '12']]);
 * // QUEUE   READY
 * // emails     12
 */
export function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const cells = [header, ...rows].map((row) => header.map((_, i) => truncate(row[i] ?? '', TABLE_CELL_MAX_CHARS)));
  const widths = header.map((_, i) => Math.max(...cells.map((row) => row[i]!.length)));
  const numeric = header.map((_, i) => rows.length > 0 && rows.every((row) => /^-?[\d.]+$/.test(row[i] ?? '')));
  return cells
    .map((row) =>
      row
        .map((cell, i) => (numeric[i] ? cell.padStart(widths[i]!) : i === row.length - 1 ? cell : cell.padEnd(widths[i]!)))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

/** Cuts `text` to `maxChars`, ending with `…` when cut. */
export function truncate(text: string, maxChars: number): string {
  return text.length <= maxChars ? text : text.slice(0, Math.max(0, maxChars - 1)) + '…';
}

/** The first line of a (possibly multi-line) text, such as an error with a stack. */
export function firstLine(text: string | null | undefined): string {
  if (!text) return '';
  const end = text.indexOf('\n');
  return end === -1 ? text : text.slice(0, end);
}

/** A job's progress in a table cell: `-` for none, else its JSON cut to a few characters. */
export function progressText(progress: unknown, max = 16): string {
  if (progress === null || progress === undefined) return '-';
  const text = JSON.stringify(progress);
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

const pad2 = (n: number): string => String(n).padStart(2, '0');

/** A Unix-ms time as `YYYY-MM-DD HH:MM:SS` in local time, or `-` for null. */
export function formatTime(ms: number | null | undefined): string {
  if (ms === null || ms === undefined) return '-';
  const d = new Date(ms);
  return `${d.getFullYear()}-${pad2(d.getMonth() + 1)}-${pad2(d.getDate())} ${pad2(d.getHours())}:${pad2(d.getMinutes())}:${pad2(d.getSeconds())}`;
}

/**
 * A duration in its two largest units: `850ms`, `12s`, `3m20s`, `5h02m`, `2d04h`.
 * @example
 * formatDuration(200_000); // '3m20s'
 */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.max(0, Math.round(ms))}ms`;
  const s = Math.floor(ms / 1000);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m${pad2(s % 60)}s`;
  const h = Math.floor(m / 60);
  if (h < 24) return `${h}h${pad2(m % 60)}m`;
  return `${Math.floor(h / 24)}d${pad2(h % 24)}h`;
}

/** Redraws at most this often, so a fast import spends its time writing jobs, not the terminal. */
const PROGRESS_REDRAW_MS = 100;
const PROGRESS_BAR_CHARS = 24;

/**
 * A one-line progress display on a terminal stream, redrawn in place with `\r`.
 * Does nothing unless `enabled` (callers pass `stream.isTTY && !json`).
 * @example
 * const bar = new Progress(process.stderr, process.stderr.isTTY);
 * bar.update(500, 0.5); // [############            ]  50%  500 jobs
 * bar.done();
 */
export class Progress {
  readonly #stream: NodeJS.WriteStream;
  readonly #enabled: boolean;
  #lastDrawMs = 0;
  #drawn = false;

  constructor(stream: NodeJS.WriteStream, enabled: boolean) {
    this.#stream = stream;
    this.#enabled = enabled;
  }

  /** Shows `count` jobs done and, if known, the fraction (0–1) of the input read. */
  update(count: number, fraction: number | null): void {
    if (!this.#enabled) return;
    const now = Date.now();
    if (now - this.#lastDrawMs < PROGRESS_REDRAW_MS) return;
    this.#lastDrawMs = now;
    let line = `${count} jobs`;
    if (fraction !== null) {
      const f = Math.min(1, Math.max(0, fraction));
      const full = Math.round(f * PROGRESS_BAR_CHARS);
      line = `[${'#'.repeat(full)}${' '.repeat(PROGRESS_BAR_CHARS - full)}] ${String(Math.floor(f * 100)).padStart(3)}%  ${line}`;
    }
    this.#stream.write(`\r${line}\x1b[K`);
    this.#drawn = true;
  }

  /** Clears the line, so whatever is printed next starts clean. */
  done(): void {
    if (this.#drawn) this.#stream.write('\r\x1b[K');
    this.#drawn = false;
  }
}
