import type { Clock } from '../core/clock.ts';
import { Health } from '../core/health.ts';
import type { OpenOptions, SpoolEvent } from './options.ts';
import { OutageReporter } from './outages.ts';

/**
 * How an engine tells its operator what happened: events (OpenOptions.onEvent), changes of
 * health (in the log and as events), and errors outside handlers (an outage reported once).
 */
export class Signals {
  readonly health: Health;
  readonly outages: OutageReporter;
  readonly #options: Pick<OpenOptions, 'onEvent'>;

  constructor(clock: Clock, options: Pick<OpenOptions, 'onEvent' | 'log' | 'onError'>) {
    this.#options = options;
    const log = options.log ?? ((line: string) => console.error(line));
    this.health = new Health(clock, (line, change) => {
      log(line);
      this.emit(change.healthy ? { type: 'healthy', downMs: change.downMs } : { type: 'unhealthy', reason: change.reason });
    });
    this.outages = new OutageReporter(clock, this.health, options.onError);
  }

  /** What background work did, for the operator's log (onEvent); a throwing listener is reported, never breaks the work. */
  emit(event: SpoolEvent): void {
    try {
      this.#options.onEvent?.(event);
    } catch (err) {
      this.outages.report(err, 'onEvent');
    }
  }
}
/** Turns what a clock step watch notices into `clock-stepped` events. */
export function clockEvents(watch: () => number | null, emit: (event: SpoolEvent) => void): () => void {
  return () => {
    const offsetMs = watch();
    if (offsetMs !== null) emit({ type: 'clock-stepped', offsetMs: Math.round(offsetMs) });
  };
}
