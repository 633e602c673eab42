/**
 * A checker of relative links in Markdown files, as GitHub renders them: each `[text](target)`,
 * `![alt](target)`, reference definition `[label]: target` and HTML `href`/`src` must name a
 * file or folder that exists, and a `#anchor` into a Markdown file (or into the same file)
 * must match one of its headings' GitHub slugs or an HTML `id`/`name` in it. URLs with a
 * scheme (`https:`, `mailto:`…) are not followed; links inside code (fenced blocks and
 * `code spans`) are not links.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, extname, join, relative, resolve } from 'node:path';

export interface MarkdownLink {
  target: string;
  /** 1-based line where the link starts. */
  line: number;
}

export interface BrokenLink extends MarkdownLink {
  /** The file holding the link, relative to the checked root. */
  file: string;
  reason: string;
}

const FENCE = /^ {0,3}(`{3,}|~{3,})/;

/** The text with fenced code blocks blanked (line breaks kept, so offsets still give line numbers). */
function withoutFences(markdown: string): string {
  const lines = markdown.split('\n');
  let fence: string | null = null;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    // A fence may be indented further inside a list item.
    const open = /^\s*(`{3,}|~{3,})/.exec(line);
    if (fence === null) {
      if (open) {
        fence = open[1]!;
        lines[i] = '';
      }
    } else {
      if (open && open[1]![0] === fence[0] && open[1]!.length >= fence.length && line.trim() === open[1]) fence = null;
      lines[i] = '';
    }
  }
  return lines.join('\n');
}

/** Inline code spans replaced by spaces of the same length (a span's content is no link). */
function withoutCodeSpans(text: string): string {
  return text.replace(/(`+)(?!`)[\s\S]*?[^`]\1(?!`)/g, (span) => span.replace(/[^\n]/g, ' '));
}

function lineAt(text: string, index: number): number {
  let line = 1;
  for (let i = 0; i < index; i++) if (text.charCodeAt(i) === 10) line++;
  return line;
}

/** Every link target in a Markdown text, in order. */
export function markdownLinks(markdown: string): MarkdownLink[] {
  const text = withoutCodeSpans(withoutFences(markdown));
  const found: { target: string; index: number }[] = [];
  // [text](target "title"): the text may hold one level of brackets and wrap across lines.
  const inline = /!?\[(?:[^[\]]|\[[^\]]*\])*\]\(\s*(<[^>\n]*>|[^\s()]*(?:\([^\s()]*\)[^\s()]*)*)(?:\s+(?:"[^"]*"|'[^']*'|\([^)]*\)))?\s*\)/g;
  for (const m of text.matchAll(inline)) found.push({ target: m[1]!.replace(/^<|>$/g, ''), index: m.index });
  for (const m of text.matchAll(/^ {0,3}\[[^\]\n]+\]:[ \t]*(<[^>\n]*>|\S+)/gm)) found.push({ target: m[1]!.replace(/^<|>$/g, ''), index: m.index });
  for (const m of text.matchAll(/<(?:a|img)\s[^>]*?\b(?:href|src)\s*=\s*"([^"]*)"/gi)) found.push({ target: m[1]!, index: m.index });
  return found.sort((a, b) => a.index - b.index).map(({ target, index }) => ({ target, line: lineAt(text, index) }));
}

/** GitHub's slug of a heading's text (github-slugger): lower case, punctuation dropped, spaces to hyphens. */
export function githubSlug(heading: string): string {
  // Code spans give their content as is; outside them, links and images give their text and HTML tags nothing.
  const text = heading
    .split(/(`+[^`]*?`+)/)
    .map((part, i) => (i % 2 === 1 ? part.replace(/^`+|`+$/g, '') : part.replace(/!?\[([^\]]*)\]\([^)]*\)/g, '$1').replace(/<[^>]+>/g, '')))
    .join('')
    .trim()
    .toLowerCase();
  return text.replace(/[^\p{L}\p{M}\p{N}\p{Pc}\- ]/gu, '').replace(/ /g, '-');
}

/** The anchors a Markdown text offers: its headings' slugs (repeats numbered -1, -2… as GitHub does) and HTML ids and names. */
export function markdownAnchors(markdown: string): Set<string> {
  const anchors = new Set<string>();
  const counts = new Map<string, number>();
  const add = (slug: string) => {
    const seen = counts.get(slug);
    if (seen === undefined) {
      counts.set(slug, 0);
      anchors.add(slug);
      return;
    }
    let n = seen + 1;
    while (counts.has(`${slug}-${n}`)) n++;
    counts.set(slug, n);
    counts.set(`${slug}-${n}`, 0);
    anchors.add(`${slug}-${n}`);
  };
  const lines = withoutFences(markdown).split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    const atx = /^ {0,3}#{1,6}(?:[ \t]+(.*?))?(?:[ \t]+#+)?[ \t]*$/.exec(line);
    if (atx) add(githubSlug(atx[1] ?? ''));
    // A setext heading: a line of text underlined with = or -.
    else if (/^ {0,3}(=+|-+)[ \t]*$/.test(line) && i > 0 && lines[i - 1]!.trim() !== '' && !FENCE.test(lines[i - 1]!)) add(githubSlug(lines[i - 1]!));
    for (const m of line.matchAll(/<[a-z][^>]*?\b(?:id|name)\s*=\s*"([^"]+)"/gi)) anchors.add(m[1]!);
  }
  return anchors;
}

/** The Markdown files under a folder, recursively, sorted. */
export function markdownFilesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((name) => name.endsWith('.md'))
    .map((name) => join(dir, name))
    .sort();
}

/**
 * The broken relative links of the given Markdown files. A target starting with `/` is taken
 * from `root` (GitHub resolves it from the repository's root); `file` in the answer is relative to it.
 */
export function checkMarkdownLinks(files: readonly string[], root: string): BrokenLink[] {
  const anchorsOf = new Map<string, Set<string>>();
  const anchors = (file: string) => {
    let set = anchorsOf.get(file);
    if (!set) anchorsOf.set(file, (set = markdownAnchors(readFileSync(file, 'utf8'))));
    return set;
  };
  const broken: BrokenLink[] = [];
  for (const file of files) {
    const from = relative(root, file);
    for (const link of markdownLinks(readFileSync(file, 'utf8'))) {
      const { target } = link;
      if (/^[a-z][a-z0-9+.-]*:/i.test(target) || target.startsWith('//')) continue; // a URL
      const report = (reason: string) => broken.push({ ...link, file: from, reason });
      if (target === '') {
        report('empty target');
        continue;
      }
      const hash = target.indexOf('#');
      const pathPart = (hash === -1 ? target : target.slice(0, hash)).replace(/\?.*$/, '');
      const anchor = hash === -1 ? null : target.slice(hash + 1);
      let path: string;
      try {
        path = pathPart === '' ? file : pathPart.startsWith('/') ? join(root, decodeURI(pathPart)) : resolve(dirname(file), decodeURI(pathPart));
      } catch {
        report('not a valid URI');
        continue;
      }
      if (!existsSync(path)) {
        report(`no such file: ${relative(root, path)}`);
        continue;
      }
      // Only Markdown has heading anchors; `#L10` into a source file is GitHub's line link.
      if (anchor === null || statSync(path).isDirectory() || extname(path) !== '.md') continue;
      let decoded: string;
      try {
        decoded = decodeURIComponent(anchor);
      } catch {
        report('anchor is not valid URI encoding');
        continue;
      }
      if (!anchors(path).has(decoded)) report(`no heading or id "${decoded}" in ${relative(root, path)}`);
    }
  }
  return broken;
}

/** One line per broken link, `file:line: target (reason)`, for an assertion message. */
export function formatBrokenLinks(broken: readonly BrokenLink[]): string {
  return broken.map((b) => `${b.file}:${b.line}: ${b.target} (${b.reason})`).join('\n');
}
