/**
 * The standard job payload of the benchmark workload: a JSON object of about
 * 100 bytes whose `n` tells jobs apart (W4 uses it to match a handler start to
 * its add() call).
 * @example
 * await target.addOne(benchPayload(7)); // {"user":12345,"action":"send-email","to":"someone@example.com","n":7}
 */
export interface BenchPayload {
  user: number;
  action: string;
  to: string;
  n: number;
  /** The add time (epoch ms), only in W7, where the worker process measures add→complete with it. */
  t?: number;
}

/** The payload of job number `n`. */
export function benchPayload(n: number): BenchPayload {
  return { user: 12345, action: 'send-email', to: 'someone@example.com', n };
}

/** Payloads `first` … `first + count - 1`, for one addMany batch. */
export function benchPayloads(first: number, count: number): BenchPayload[] {
  const batch: BenchPayload[] = new Array(count);
  for (let i = 0; i < count; i++) batch[i] = benchPayload(first + i);
  return batch;
}
