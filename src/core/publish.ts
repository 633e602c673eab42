import type { AddOptions } from './add-options.ts';
import { InvalidArgumentError } from './errors.ts';
import type { Job } from './job.ts';
import { checkOptionKeys } from './options.ts';

/**
 * The options of a publish: those of an add that make sense for every copy alike. Each copy is
 * an ordinary job of its queue: it gets the queue's defaults where these leave a value out.
 */
export type PublishOptions = Pick<AddOptions, 'name' | 'priority' | 'delayMs' | 'runAt' | 'maxAttempts' | 'timeoutMs' | 'trace' | 'group' | 'ttlMs' | 'cost' | 'concurrencyKey'>;

/** Every key of {@link PublishOptions}; others are refused, naming the nearest. */
export const PUBLISH_OPTION_KEYS = ['name', 'priority', 'delayMs', 'runAt', 'maxAttempts', 'timeoutMs', 'trace', 'group', 'ttlMs', 'cost', 'concurrencyKey'] as const;

/** Add options a publish refuses, and why (a key is per queue; a caller's transaction is per add). */
const NOT_FOR_PUBLISH: Record<string, string> = {
  idempotencyKey: 'a publish takes no idempotencyKey: keys are per queue, and a publish writes to several; add to each queue with its own key instead',
  uniqueKey: 'a publish takes no uniqueKey: keys are per queue, and a publish writes to several; add to each queue with its own key instead',
  uniqueWindowMs: 'a publish takes no uniqueWindowMs (it goes with uniqueKey, which a publish does not take)',
  tx: "a publish takes no tx: it writes its copies in a transaction of its own (see docs/routing.md)",
};

/** Validates the keys of publish options (their values are checked as an add's). @throws InvalidArgumentError */
export function checkPublishOptionKeys(options: unknown): void {
  if (typeof options === 'object' && options !== null) {
    for (const key of Object.keys(options)) if (key in NOT_FOR_PUBLISH) throw new InvalidArgumentError(key, NOT_FOR_PUBLISH[key]!);
  }
  checkOptionKeys(options, PUBLISH_OPTION_KEYS, 'publish');
}

/** What a publish wrote. */
export interface Published<P = unknown> {
  topic: string;
  /** One job per queue the topic routes to (each queue once, whatever the number of its bindings that match), in queue name order. */
  jobs: Job<P>[];
  /**
   * The topic matched no binding: the publish was counted, and its one job, if any, is in the
   * unrouted queue (`jobs` is empty when none is set).
   */
  unrouted: boolean;
}

export type { Binding, Bindings } from './binding.ts';
