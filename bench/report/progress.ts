/**
 * The runner's progress display on stderr (cli-progress): one bar for the
 * runs of the whole bench and one for the phase the current run is in (a fill,
 * a drain, W7's window, …) with its ETA, fed by the run's child process.
 * Only on a terminal: with stderr redirected, or with `--json`, or with
 * `--no-progress`, there is no bar and notes go to stderr line by line as
 * before. While the bars are shown, every other stderr line (the runner's notes,
 * the children's messages) is printed above them through {@link ProgressDisplay.note}.
 * @example
 * const progress = new ProgressDisplay(process.stderr.isTTY === true, 12);
 * progress.startRun('spool-server W5-1m run 1/3');
 * progress.update('fill', 250_000, 1_000_000);
 * progress.finishRun();
 * progress.stop();
 */
// cli-progress is CommonJS, and Node finds only some of its exports by name: take them from the module object.
import cliProgress, { type GenericFormatter, type SingleBar } from 'cli-progress';
import { count } from '../workloads/run-context.ts';

/** The phase bar: its label, the bar, and the count with an ETA when the phase has one. */
const phaseFormat: GenericFormatter = (options, params, payload: { counts: string }) => {
  const eta = params.value > 0 && Number.isFinite(params.eta) ? ' | ETA {eta_formatted}' : '';
  const format = payload.counts === '' ? '{label} [{bar}]' : `{label} [{bar}] {counts}${eta}`;
  return cliProgress.Format.Formatter({ ...options, format }, params, payload);
};

export class ProgressDisplay {
  readonly #multi: cliProgress.MultiBar | null;
  readonly #stream: NodeJS.WritableStream;
  #runs: SingleBar | null = null;
  #phase: SingleBar | null = null;
  #runsDone = 0;
  #label = '';
  #phaseName = '';
  #stopped = false;

  /**
   * @param enabled show the bars (the caller decides: stderr is a terminal and `--json` is off)
   * @param totalRuns the runs the bench is going to make
   */
  constructor(enabled: boolean, totalRuns: number, stream: NodeJS.WritableStream = process.stderr) {
    this.#stream = stream;
    if (!enabled || totalRuns === 0) {
      this.#multi = null;
      return;
    }
    this.#multi = new cliProgress.MultiBar(
      {
        stream,
        hideCursor: true,
        clearOnComplete: true,
        linewrap: true,
        fps: 5,
        etaBuffer: 30,
        format: '{label} [{bar}] {done}/{all} runs | {duration_formatted}',
        barsize: 30,
      },
      cliProgress.Presets.shades_classic,
    );
    this.#runs = this.#multi.create(totalRuns, 0, { label: 'bench', done: '0', all: count(totalRuns) });
  }

  /** True when the bars are shown. */
  get active(): boolean {
    return this.#multi !== null;
  }

  /** Prints one line (without its newline) on stderr, above the bars when they are shown. */
  note(line: string): void {
    // The note is written over the bars' lines: erase what is left of each after it (ESC [ K).
    if (this.#multi && !this.#stopped) this.#multi.log(`${line}\x1b[K\n`);
    else this.#stream.write(`${line}\n`);
  }

  /** A run starts: its label (`spool-server W5-1m run 1/3`) heads the phase bar. */
  startRun(label: string): void {
    this.#label = label;
    this.#phaseName = '';
    this.update('starting', 0, 1);
  }

  /**
   * The current run's phase and how far it is: `done` of `total` jobs, or of
   * `total` seconds for a timed `window`; `starting` and `setup` show no count.
   */
  update(phase: string, done: number, total: number): void {
    if (!this.#multi || this.#stopped) return;
    const unit = phase === 'window' ? ' s' : ' jobs';
    const counts = phase === 'starting' || phase === 'setup' ? '' : `${count(done)}/${count(total)}${unit}`;
    const payload = { label: `${this.#label}: ${phase}`, counts };
    if (!this.#phase) {
      this.#phase = this.#multi.create(total, done, payload, { format: phaseFormat });
    } else if (phase !== this.#phaseName) {
      // A new phase restarts the bar, and with it the ETA's estimate.
      this.#phase.start(total, done, payload);
    } else {
      this.#phase.setTotal(total);
      this.#phase.update(done, payload);
    }
    this.#phaseName = phase;
  }

  /** The current run ended (either way). */
  finishRun(): void {
    this.#runsDone++;
    this.#runs?.update(this.#runsDone, { done: count(this.#runsDone) });
  }

  /** Runs that will not be made after all (the rest of a kind whose run failed). */
  skipRuns(n: number): void {
    this.#runsDone += n;
    this.#runs?.update(this.#runsDone, { done: count(this.#runsDone) });
  }

  /** Prints the notes still waiting and removes the bars (the terminal is left clean). Idempotent. */
  stop(): void {
    if (this.#stopped) return;
    this.#stopped = true;
    if (this.#multi?.isActive) this.#multi.update(); // flushes the notes logged since the last redraw
    this.#multi?.stop();
  }
}
