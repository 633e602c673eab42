import { isPgDataError, translatePgError } from './pg-errors.ts';

/**
 * Applies independent items (the adds, acks, nacks or extends of one tick) with one statement
 * for all of them. When PostgreSQL refuses the data of one (SQLSTATE class 22 or 23: the whole
 * statement fails, nothing of it was written), applies them again in halves, and halves of
 * those, down to single items, so only the refused ones fail, each with its own error (by index
 * in `refused`), and the others apply: k bad items among n cost about 2·k·log2(n) statements,
 * not n. Any other failure of the whole batch fails the call as a whole; one of a part fails
 * the items of that part, each with that error. `field` names the input a refusal is about: one
 * for all, or by SQLSTATE (and, for an item's own error, by item).
 */
export async function applyEach<I>(
  items: readonly I[],
  run: (batch: readonly I[]) => Promise<ArrayLike<Record<string, unknown>> & Iterable<Record<string, unknown>>>,
  doing: string,
  field: string | ((sqlstate: string, item?: I) => string),
  doingItem: (item: I) => string,
): Promise<{ rows: Record<string, unknown>[]; refused: Map<number, Error> | null }> {
  const itemError = (err: unknown, item: I) =>
    translatePgError(err, doingItem(item), typeof field === 'string' ? field : (sqlstate) => field(sqlstate, item)) as Error;
  const rows: Record<string, unknown>[] = [];
  try {
    rows.push(...(await run(items)));
    return { rows, refused: null };
  } catch (err) {
    if (!isPgDataError(err)) throw translatePgError(err, doing, field);
    if (items.length === 1) return { rows, refused: new Map([[0, itemError(err, items[0]!)]]) };
  }
  const refused = new Map<number, Error>();
  const part = async (from: number, to: number): Promise<void> => {
    const mid = from + Math.ceil((to - from) / 2);
    for (const [lo, hi] of [[from, mid], [mid, to]] as const) {
      try {
        rows.push(...(await run(items.slice(lo, hi))));
      } catch (err) {
        if (hi - lo > 1 && isPgDataError(err)) await part(lo, hi);
        else for (let i = lo; i < hi; i++) refused.set(i, itemError(err, items[i]!));
      }
    }
  };
  await part(0, items.length);
  return { rows, refused };
}
