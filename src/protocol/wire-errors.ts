import { ALL_FIELDS, errorSpec } from '../core/error-codes.ts';
import { SpoolError } from '../core/errors.ts';
import type { WireError } from './frames.ts';

/**
 * An error as it goes on the wire. A SpoolError keeps its code, message and the fields its
 * code carries (`ERRORS` in error-codes.ts); anything else is a fault of ours, sent as
 * INTERNAL without its message (which could leak internals).
 */
export function errorToWire(err: unknown): WireError {
  if (!(err instanceof SpoolError)) return { code: 'INTERNAL', message: 'internal error; see the broker log' };
  const wire: WireError = { code: err.code, message: err.message };
  for (const key of errorSpec(err.code)?.fields ?? ALL_FIELDS) {
    const value = (err as unknown as Record<string, unknown>)[key];
    if (value !== undefined) wire[key] = value;
  }
  return wire;
}

/**
 * Rebuilds an error from the wire as the class the in-process engine would have thrown,
 * so `err instanceof StaleLeaseError` works the same with a remote Spool. A code without
 * a class, or one this version does not know (a newer broker's), comes back as a
 * SpoolError with that code and the fields it carried.
 */
export function errorFromWire(wire: WireError): SpoolError {
  const spec = errorSpec(wire.code);
  let err: SpoolError;
  if (spec?.rebuild) {
    err = spec.rebuild(wire);
  } else {
    err = new SpoolError('INTERNAL', wire.message);
    // Kept verbatim, so scripts see the code the broker sent even when this version does not list it.
    Object.assign(err, { code: wire.code });
    for (const key of spec?.fields ?? ALL_FIELDS) if (wire[key] !== undefined) Object.assign(err, { [key]: wire[key] });
  }
  err.message = wire.message; // the broker's words, which may say more than the class's default
  return err;
}
