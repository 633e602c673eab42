/**
 * The noisy neighbour of W4-noisy: a CPU-bound process on the same machine for the
 * whole run, started by the run itself and ended when the run ends, whether it
 * succeeds or throws.
 * @example
 * const figures = await withNoisyNeighbour(ctx.log, () => addToStartLatency(ctx));
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';

/**
 * What the neighbour runs: a busy loop in 50 ms slices. The slices return to the
 * event loop between them (for a few microseconds) only so that the process sees
 * its IPC channel close and exits when the run's process dies without ending it
 * (a SIGKILL, a crash): a bare `for(;;){}` would be left spinning on the machine.
 */
const SPIN_SCRIPT = `
process.on('disconnect', () => process.exit(0));
const spin = () => { const end = Date.now() + 50; while (Date.now() < end); setImmediate(spin); };
spin();
`;

/** A running CPU-bound process. */
export interface NoisyNeighbour {
  readonly pid: number;
  /** True until it has exited. */
  running(): boolean;
  /** Ends it (SIGKILL) and resolves once it has exited; a no-op when it already has. */
  stop(): Promise<void>;
}

/** Starts the neighbour and resolves once it is running (spawned). */
export async function startNoisyNeighbour(): Promise<NoisyNeighbour> {
  const child: ChildProcess = spawn(process.execPath, ['-e', SPIN_SCRIPT], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
  await once(child, 'spawn');
  // Neither the process nor its channel may keep this one alive: stop() ends it.
  child.unref();
  child.channel?.unref();
  const exited = once(child, 'exit').then(() => {});
  const running = (): boolean => child.exitCode === null && child.signalCode === null;
  return {
    pid: child.pid!,
    running,
    async stop() {
      // Waiting for the exit must hold this process open: ref the child again first.
      child.ref();
      if (running()) child.kill('SIGKILL');
      await exited;
    },
  };
}

/**
 * Runs `run` while a {@link startNoisyNeighbour} process spins beside it, and
 * always ends the neighbour before returning or rethrowing. A neighbour that
 * exited before the run was done fails the run: its figures would not be the
 * noisy ones.
 */
export async function withNoisyNeighbour<T>(log: (message: string) => void, run: (neighbour: NoisyNeighbour) => Promise<T>): Promise<T> {
  const neighbour = await startNoisyNeighbour();
  log(`a CPU-bound neighbour runs beside the run (process ${neighbour.pid})`);
  try {
    const result = await run(neighbour);
    if (!neighbour.running()) throw new Error('the noisy neighbour exited before the run was done: its figures are not the noisy ones');
    return result;
  } finally {
    await neighbour.stop();
  }
}
