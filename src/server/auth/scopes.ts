import { InvalidArgumentError } from '../../core/errors.ts';
import { describe } from '../../core/limits.ts';
import type { Action } from '../../api/operations.ts';

export type { Action } from '../../api/operations.ts';

/**
 * One permission of a token: `publish:<pattern>`, `consume:<pattern>`, `view`, `admin` or `sqs`.
 * A pattern is a queue name in which `*` matches any run of characters. `view` reads every
 * queue (its jobs, stats, settings, logs, the overview) and changes nothing: the scope of a
 * dashboard or a monitor that must not act. `sqs` grants no action: it lets the token sign
 * requests to the SQS endpoint (docs/sqs.md), whose secret is derived from what the store
 * keeps of the token, so a token is usable there only when it was made for it.
 */
export type Scope =
  | { readonly kind: 'admin'; readonly text: 'admin' }
  | { readonly kind: 'view'; readonly text: 'view' }
  | { readonly kind: 'sqs'; readonly text: 'sqs' }
  | { readonly kind: 'publish' | 'consume'; readonly pattern: string; readonly text: string };

/** Who is asking, and what they may do. */
export interface Principal {
  /** The token's id, or null when authentication is off. */
  readonly tokenId: string | null;
  readonly scopes: readonly Scope[];
  /**
   * Whether `action` is allowed on `queue`. Without a queue: whether it is allowed on
   * at least one queue (for `admin`, the queue never matters).
   */
  can(action: Action, queue?: string): boolean;
}

// Queue-name characters plus `*`; the same length bound as a queue name.
const PATTERN_RE = /^[A-Za-z0-9*][A-Za-z0-9._:*-]{0,127}$/;
const GRAMMAR = 'a scope is publish:<queue pattern>, consume:<queue pattern>, view, admin or sqs, where * in a pattern matches any characters (e.g. publish:orders.*)';

/**
 * Parses one scope.
 * @throws InvalidArgumentError (field `scope`) saying what a scope looks like.
 * @example
 * parseScope('consume:orders.*'); // { kind: 'consume', pattern: 'orders.*', text: 'consume:orders.*' }
 */
export function parseScope(text: unknown): Scope {
  if (text === 'admin') return { kind: 'admin', text: 'admin' };
  if (text === 'view') return { kind: 'view', text: 'view' };
  if (text === 'sqs') return { kind: 'sqs', text: 'sqs' };
  if (typeof text === 'string') {
    // Queue names may contain ':', so only the first one separates the action.
    const colon = text.indexOf(':');
    const kind = colon === -1 ? text : text.slice(0, colon);
    const pattern = text.slice(colon + 1);
    if ((kind === 'publish' || kind === 'consume') && colon !== -1) {
      if (!PATTERN_RE.test(pattern)) {
        throw new InvalidArgumentError('scope', `scope ${describe(text)}: the queue pattern must be 1–128 letters, digits, '.', '_', ':', '-' or '*', starting with a letter, digit or '*'`);
      }
      return { kind, pattern, text };
    }
    if (kind === 'admin' || kind === 'view' || kind === 'sqs') throw new InvalidArgumentError('scope', `scope ${describe(text)}: ${kind} takes no queue pattern; ${GRAMMAR}`);
  }
  throw new InvalidArgumentError('scope', `scope ${describe(text)} is not valid: ${GRAMMAR}`);
}

/**
 * Whether a queue pattern matches a queue name; `*` matches any run of characters,
 * including none. Greedy wildcard matching with one backtrack point: at most
 * pattern × name steps (128 × 128), where a regular expression built from a pattern
 * with many stars could backtrack exponentially.
 * @example
 * matchesPattern('orders.*', 'orders.eu'); // true
 */
export function matchesPattern(pattern: string, name: string): boolean {
  let p = 0;
  let n = 0;
  let star = -1; // index in pattern of the last '*' seen
  let mark = 0; // index in name that the last '*' is matched up to
  while (n < name.length) {
    if (p < pattern.length && pattern[p] !== '*' && pattern[p] === name[n]) {
      p++;
      n++;
    } else if (p < pattern.length && pattern[p] === '*') {
      star = p++;
      mark = n;
    } else if (star !== -1) {
      // Let the last '*' swallow one more character and try again from there.
      p = star + 1;
      n = ++mark;
    } else {
      return false;
    }
  }
  while (p < pattern.length && pattern[p] === '*') p++;
  return p === pattern.length;
}

/**
 * A principal holding `scopes`.
 * @example
 * const p = principalOf('0123456789ab', [parseScope('publish:orders.*')]);
 * p.can('publish', 'orders.eu'); // true
 * p.can('consume', 'orders.eu'); // false
 */
export function principalOf(tokenId: string | null, scopes: readonly Scope[]): Principal {
  const admin = scopes.some((s) => s.kind === 'admin');
  const view = scopes.some((s) => s.kind === 'view');
  const grants = (kind: 'publish' | 'consume', queue: string | undefined) =>
    scopes.some((s) => s.kind === kind && (queue === undefined || matchesPattern(s.pattern, queue)));
  return {
    tokenId,
    scopes,
    can(action, queue) {
      if (admin) return true;
      if (action === 'admin') return false;
      if (action === 'read') return view || grants('publish', queue) || grants('consume', queue);
      return grants(action, queue);
    },
  };
}

/** Everything allowed: what every request gets when authentication is off. */
export const ALL_ACCESS: Principal = principalOf(null, [{ kind: 'admin', text: 'admin' }]);
