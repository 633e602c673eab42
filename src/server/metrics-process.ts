import { collectDefaultMetrics, Registry } from 'prom-client';

let processRegistry: Registry | null = null;

/**
 * The process's own metrics (CPU, memory, event loop lag, GC, handles), prefixed `spool_`, in a
 * registry of their own. One per process, made by the first broker that serves metrics and
 * shared by every later one: they describe the process, not a broker, and prom-client's
 * collectors (a GC observer, an event-loop delay monitor) cannot be stopped, so a registry per
 * broker would leave a pair running for each broker ever started. Not prom-client's global
 * registry either, which the application may use for metrics of its own.
 */
export function processMetrics(): Registry {
  if (!processRegistry) {
    processRegistry = new Registry();
    collectDefaultMetrics({ register: processRegistry, prefix: 'spool_' });
  }
  return processRegistry;
}
