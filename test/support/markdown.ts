/** Code blocks of the Markdown docs, with where they start, for the tests that run and check them. */
import { readFileSync } from 'node:fs';

/** What an HTML comment just before a block says about it: `<!-- not checked: why -->`, `<!-- not run: why -->`. */
export interface BlockMark {
  readonly kind: 'not checked' | 'not run';
  readonly reason: string;
  /** The comment's line (1-based). */
  readonly line: number;
}

export interface CodeBlock {
  /** The file as given (e.g. `docs/cli.md`). */
  readonly file: string;
  /** The line of the opening fence (1-based); the block's first line of code is `line + 1`. */
  readonly line: number;
  /** The info string's first word, lower case (`ts`, `sh`, `text`), or `''` for a bare fence. */
  readonly lang: string;
  readonly code: string;
  readonly mark: BlockMark | null;
}

const FENCE = /^ {0,3}(`{3,}|~{3,})\s*([^`\s]*)/;
const MARK = /^<!--\s*(not checked|not run):\s*(.+?)\s*-->$/;

/**
 * Every fenced code block of a Markdown text, in order.
 * @param file the name used in messages, e.g. `docs/cli.md`
 * @throws Error for a fence that is never closed, or a `<!-- not … -->` mark that no block follows
 */
export function codeBlocks(text: string, file: string): CodeBlock[] {
  const lines = text.split('\n');
  const blocks: CodeBlock[] = [];
  let pendingMark: BlockMark | null = null;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    const mark = MARK.exec(line.trim());
    if (mark) {
      pendingMark = { kind: mark[1] as BlockMark['kind'], reason: mark[2]!, line: i + 1 };
      continue;
    }
    const open = FENCE.exec(line);
    if (!open) {
      if (line.trim() !== '' && pendingMark) throw new Error(`${file}:${pendingMark.line}: "<!-- ${pendingMark.kind}: … -->" must be just before a code block`);
      continue;
    }
    const fence = open[1]!;
    const start = i;
    const body: string[] = [];
    for (i++; i < lines.length; i++) {
      const close = lines[i]!.trim();
      if (close.startsWith(fence) && close.replace(/[`~]/g, '') === '' && close[0] === fence[0]) break;
      body.push(lines[i]!);
    }
    if (i === lines.length) throw new Error(`${file}:${start + 1}: this code block is never closed`);
    blocks.push({ file, line: start + 1, lang: open[2]!.toLowerCase(), code: body.join('\n') + '\n', mark: pendingMark });
    pendingMark = null;
  }
  if (pendingMark) throw new Error(`${file}:${pendingMark.line}: "<!-- ${pendingMark.kind}: … -->" must be just before a code block`);
  return blocks;
}

/** The code blocks of a file, read from disk. */
export function codeBlocksOf(path: string, file: string = path): CodeBlock[] {
  return codeBlocks(readFileSync(path, 'utf8'), file);
}

/**
 * The part of a Markdown text under a heading, up to the next heading of the same or a higher level.
 * @example
 * sectionsOf(text, 3) // [{ heading: '### `spool serve`', body: '…' }, …]
 */
export function sectionsOf(text: string, level: number): { heading: string; line: number; body: string }[] {
  const lines = text.split('\n');
  const out: { heading: string; line: number; body: string }[] = [];
  let current: { heading: string; line: number; body: string[] } | null = null;
  let inFence: string | null = null;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    const fence = FENCE.exec(line);
    if (fence) {
      if (inFence === null) inFence = fence[1]!;
      else if (line.trim().startsWith(inFence)) inFence = null;
    }
    const heading = inFence === null && !fence ? /^(#{1,6}) /.exec(line) : null;
    if (heading && heading[1]!.length <= level) {
      if (current) out.push({ ...current, body: current.body.join('\n') });
      current = heading[1]!.length === level ? { heading: line, line: i + 1, body: [] } : null;
      continue;
    }
    current?.body.push(line);
  }
  if (current) out.push({ ...current, body: current.body.join('\n') });
  return out;
}
