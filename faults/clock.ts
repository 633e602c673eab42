/**
 * A wall clock the runner can step, for the `clock-step` fault: a process started with
 * {@link SteppableClock.env} runs under Debian's libfaketime (LD_PRELOAD), which reads the
 * offset to apply to the wall clock from a file on every call. The monotonic clock is left
 * alone (DONT_FAKE_MONOTONIC), as on a machine whose clock an operator or NTP steps: only
 * Date.now() and the like jump. `step` rewrites the file; the process sees it at once.
 */
import { existsSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** Where Debian's libfaketime package puts the library (package `faketime`, which depends on `libfaketime`). */
const LIBRARIES = ['/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1', '/usr/lib/aarch64-linux-gnu/faketime/libfaketime.so.1', '/usr/lib/faketime/libfaketime.so.1'];

export class SteppableClock {
  readonly #file: string;
  readonly #library: string;
  #offsetS = 0;

  /** A clock at offset 0, its control file in `dir` under `name`. */
  constructor(dir: string, name: string) {
    const library = LIBRARIES.find((l) => existsSync(l));
    if (!library) throw new Error(`the clock-step fault runs processes under libfaketime, which is not installed (looked in ${LIBRARIES.join(', ')}): apt-get install faketime`);
    this.#library = library;
    this.#file = join(dir, `${name}.faketime`);
    writeFileSync(this.#file, '+0\n');
  }

  /** The environment that puts a child process on this clock. */
  env(): Record<string, string> {
    // NO_CACHE: the file is read at every call, so a step lands at once (about 1.5 µs a call; fine at a fault run's load).
    return { LD_PRELOAD: this.#library, FAKETIME_TIMESTAMP_FILE: this.#file, FAKETIME_NO_CACHE: '1', FAKETIME_DONT_FAKE_MONOTONIC: '1' };
  }

  /** The current step from the real wall clock, in seconds. */
  get offsetS(): number {
    return this.#offsetS;
  }

  /** Sets the clock `offsetS` seconds from the real wall clock (a step of the difference from the last offset). */
  step(offsetS: number): void {
    this.#offsetS = offsetS;
    // Written aside and renamed: an empty file (mid-write) reads as offset 0, a step of its own.
    writeFileSync(`${this.#file}.next`, `${offsetS >= 0 ? '+' : ''}${offsetS}\n`);
    renameSync(`${this.#file}.next`, this.#file);
  }
}
