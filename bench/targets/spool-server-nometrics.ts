import { SpoolServerTarget } from './spool-server.ts';

/**
 * spool-server with the broker's Prometheus metrics off (`spool serve --no-metrics`):
 * everything else as spool-server. Not in the default set: name it with
 * `--target spool-server,spool-server-nometrics` to measure what serving `/metrics` costs, both
 * in one bench (docs/benchmarks.md, "What metrics cost").
 */
export class SpoolServerNoMetricsTarget extends SpoolServerTarget {
  override readonly id: string = 'spool-server-nometrics';
  protected override readonly brokerMetrics: boolean = false;
}
