/**
 * The order of a target's runs: all runs of one workload in a row, or with `interleave` in
 * turns (run 1 of each workload, then run 2 of each, …), so that figures read as ratios of one
 * another see the same drift of a shared machine.
 * @example
 * runOrder(['W3', 'W3-sjf'], 2, true); // W3 1, W3-sjf 1, W3 2, W3-sjf 2
 */
export function runOrder<K>(kinds: readonly K[], runs: number, interleave: boolean): { kind: K; run: number }[] {
  const numbers = Array.from({ length: runs }, (_, i) => i + 1);
  return interleave ? numbers.flatMap((run) => kinds.map((kind) => ({ kind, run }))) : kinds.flatMap((kind) => numbers.map((run) => ({ kind, run })));
}
