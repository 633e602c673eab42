import { LIMITS, type LimitName } from '../core/limits.ts';
import { UsageError } from './exit-codes.ts';

/**
 * Parses repeated `--set name=value` flags into numeric settings, each a name from the
 * limits table (docs/configuration.md). Bounds are checked where the setting is used.
 */
export function parseSettings(values: unknown): Partial<Record<LimitName, number>> {
  const list = values === undefined ? [] : Array.isArray(values) ? values : [values];
  const out: Partial<Record<LimitName, number>> = {};
  for (const item of list as string[]) {
    const eq = item.indexOf('=');
    const name = item.slice(0, eq) as LimitName;
    const raw = item.slice(eq + 1);
    if (eq < 1 || !(name in LIMITS)) {
      throw new UsageError(`--set takes name=value with a setting from docs/configuration.md (got ${JSON.stringify(item)}); e.g. --set connectionsMax=20000`);
    }
    const value = Number(raw);
    if (raw.trim() === '' || !Number.isInteger(value)) throw new UsageError(`--set ${name} needs an integer (got ${JSON.stringify(raw)})`);
    out[name] = value;
  }
  return out;
}
