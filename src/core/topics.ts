import { InvalidArgumentError } from './errors.ts';
import { describe } from './limits.ts';

/**
 * Topics and the patterns bindings route them by, with the semantics of an AMQP topic exchange:
 * a topic is words joined by '.', a pattern's word `*` stands for exactly one word and `#` for
 * zero or more. The table of cases is in docs/routing.md and test/topics.test.ts.
 */

/** Longest topic or pattern, in characters. */
export const TOPIC_MAX = 255;

/** One word of a topic: letters, digits, '_' and '-' (never empty: `a..b` is refused). */
const WORD_RE = /^[A-Za-z0-9_-]+$/;
/** The topic rule as a pattern, for the API description. */
export const TOPIC_PATTERN = '^[A-Za-z0-9_-]+(\\.[A-Za-z0-9_-]+)*$';
/** The pattern rule as a pattern, for the API description. */
export const TOPIC_PATTERN_PATTERN = '^([A-Za-z0-9_-]+|\\*|#)(\\.([A-Za-z0-9_-]+|\\*|#))*$';

const TOPIC_RULE = `1–${TOPIC_MAX} characters: words of letters, digits, '_' or '-', joined by '.' (no empty word)`;

/** Validates a topic (what a publish names). @throws InvalidArgumentError naming `field`. */
export function checkTopic(topic: unknown, field = 'topic'): string {
  if (typeof topic !== 'string' || topic.length === 0 || topic.length > TOPIC_MAX || !topic.split('.').every((w) => WORD_RE.test(w))) {
    const hint = typeof topic === 'string' && /[*#]/.test(topic) ? "; '*' and '#' belong in a binding's pattern, not in a topic" : '';
    throw new InvalidArgumentError(field, `${field} ${describe(topic)} is not valid: use ${TOPIC_RULE}${hint}`);
  }
  return topic;
}

/**
 * Validates a binding's pattern: a topic whose words may also be `*` (one word) or `#` (zero or
 * more). A word mixing a wildcard with letters (`ord*`) is refused rather than read literally.
 * @throws InvalidArgumentError naming `field`.
 */
export function checkTopicPattern(pattern: unknown, field = 'pattern'): string {
  const ok = typeof pattern === 'string' && pattern.length > 0 && pattern.length <= TOPIC_MAX
    && pattern.split('.').every((w) => w === '*' || w === '#' || WORD_RE.test(w));
  if (!ok) {
    throw new InvalidArgumentError(field, `${field} ${describe(pattern)} is not valid: use ${TOPIC_RULE}, where a word may also be '*' (exactly one word) or '#' (zero or more words)`);
  }
  return pattern;
}

/** A node of the matcher's trie: one per distinct pattern prefix. */
interface Node {
  readonly words: Map<string, Node>;
  star: Node | null;
  hash: Node | null;
  /** Queues bound by a pattern ending here. */
  readonly queues: Set<string>;
}

const node = (): Node => ({ words: new Map(), star: null, hash: null, queues: new Set() });

/**
 * The compiled form of a set of bindings: a trie of their patterns' words, so a topic is matched
 * against every binding in one walk whose cost depends on the topic and the patterns' shapes,
 * not on how many bindings there are. Pure: no validation (callers stored valid patterns).
 */
export class TopicMatcher {
  readonly #root = node();
  readonly size: number;

  constructor(bindings: Iterable<{ pattern: string; queue: string }>) {
    let n = 0;
    for (const { pattern, queue } of bindings) {
      let at = this.#root;
      for (const w of pattern.split('.')) {
        if (w === '*') at = at.star ??= node();
        else if (w === '#') at = at.hash ??= node();
        else {
          let next = at.words.get(w);
          if (!next) at.words.set(w, (next = node()));
          at = next;
        }
      }
      at.queues.add(queue);
      n++;
    }
    this.size = n;
  }

  /** The distinct queues bound to `topic`, in name order (the order copies are written in). */
  match(topic: string): string[] {
    const out = new Set<string>();
    const words = topic.split('.');
    // (node, position) pairs already walked: `#` can reach one pair by several paths.
    const seen = new Set<string>();
    const ids = new Map<Node, number>();
    const walk = (at: Node, i: number): void => {
      if (at.hash) {
        // `#` takes zero or more words: continue after it from every position i..end.
        let id = ids.get(at.hash);
        if (id === undefined) ids.set(at.hash, (id = ids.size));
        for (let j = i; j <= words.length; j++) {
          const key = `${id}:${j}`;
          if (seen.has(key)) continue;
          seen.add(key);
          walk(at.hash, j);
        }
      }
      if (i === words.length) {
        for (const q of at.queues) out.add(q);
        return;
      }
      const w = words[i]!;
      const next = at.words.get(w);
      if (next) walk(next, i + 1);
      if (at.star) walk(at.star, i + 1);
    };
    walk(this.#root, 0);
    return [...out].sort();
  }
}

/** Whether `topic` matches `pattern` (one binding); see {@link TopicMatcher}. */
export function topicMatches(pattern: string, topic: string): boolean {
  return new TopicMatcher([{ pattern, queue: '' }]).match(topic).length > 0;
}
