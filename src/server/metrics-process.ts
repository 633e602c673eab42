import { collectDefaultMetrics, Gauge, Registry } from 'prom-client';
import { clockOffsetMs } from '../core/clock.ts';

let processRegistry: Registry | null = null;

/**
 * The process's own metrics (CPU, memory, event loop lag, GC, handles), prefixed `spool_`, in a
 * registry of their own. One per process, made by the first broker that serves metrics and
 * shared by every later one: they describe the process, not a broker, and prom-client's
 * collectors (a GC observer, an event-loop delay monitor) cannot be stopped, so a registry per
 * broker would leave a pair running for each broker ever started. Not prom-client's global
 * registry either, which the application may use for metrics of its own. With them,
 * `spool_clock_offset_seconds`: how far the machine's wall clock is from Spool's steady time
 * (src/core/clock.ts), non-zero while Spool catches up with a stepped clock.
 */
export function processMetrics(): Registry {
  if (!processRegistry) {
    processRegistry = new Registry();
    collectDefaultMetrics({ register: processRegistry, prefix: 'spool_' });
    new Gauge({
      name: 'spool_clock_offset_seconds',
      help: "The machine's wall clock minus Spool's time: non-zero after the wall clock was stepped, while Spool's time catches up at most 10 % fast or slow",
      registers: [processRegistry],
      collect() {
        this.set(clockOffsetMs() / 1000);
      },
    });
  }
  return processRegistry;
}
