import { EXIT } from './exit-codes.ts';
import { note } from './output.ts';

/** Keeps the process alive while waiting: the engine's own timers are unref'd and would let it exit. */
const KEEP_ALIVE_MS = 2 ** 30;

/** A wait for SIGINT or SIGTERM; see {@link waitForStop}. */
export interface StopSignal {
  /** Resolves with the first SIGINT or SIGTERM. */
  readonly received: Promise<NodeJS.Signals>;
  /** Stops listening and lets the process exit. Call it once shutdown is done. */
  dispose(): void;
}

/**
 * Holds the process open until SIGINT or SIGTERM, for long-running commands.
 * The first signal starts a graceful shutdown; a second one exits at once with
 * EXIT.FORCED_STOP (jobs still running come back when their leases expire).
 * @example
 * const stop = waitForStop();
 * await stop.received;
 * await worker.close();
 * stop.dispose();
 */
export function waitForStop(): StopSignal {
  const keepAlive = setInterval(() => {}, KEEP_ALIVE_MS);
  let signals = 0;
  let resolveReceived!: (signal: NodeJS.Signals) => void;
  const received = new Promise<NodeJS.Signals>((resolve) => (resolveReceived = resolve));
  const onSignal = (signal: NodeJS.Signals): void => {
    signals++;
    if (signals === 1) {
      resolveReceived(signal);
      return;
    }
    note(`spool: second ${signal}: exiting without waiting; jobs still running will be redelivered when their leases expire`);
    process.exit(EXIT.FORCED_STOP);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return {
    received,
    dispose() {
      clearInterval(keepAlive);
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    },
  };
}
