/** The results of a fault run as a Markdown table: one row per deployment and fault kind. */
import type { SessionResult } from './session.ts';

const HEADER = ['deployment', 'fault', 'cycles', 'acknowledged adds', 'lost', 'unexpected', 'duplicates (in flight at a kill / lease expired)', 'stored twice', 'phantom acks', 'redelivered after completion', 'early (delays / leases)', 'stale acks', 'max recovery (ms)', 'back after restart (ms)', 'stops that held the SQLite lock', 'verdict'];

export function resultRow(r: SessionResult): string[] {
  const rep = r.report;
  const extra = rep.duplicateCauses['in-flight-at-kill'] + rep.duplicateCauses['lease-expired'];
  return [
    r.deployment,
    r.fault,
    String(r.cycles),
    String(rep.counts.acknowledgedAdds),
    String(rep.lost.length),
    String(rep.unexpected.length),
    `${extra} (${rep.duplicateCauses['in-flight-at-kill']} / ${rep.duplicateCauses['lease-expired']})`,
    String(rep.storedTwice.length),
    String(rep.phantomAcks.length),
    String(rep.redeliveredAfterCompletion.length),
    `${rep.early.delays.length} / ${rep.early.leases.length}`,
    String(rep.counts.acksStale),
    r.maxRecoveryMs === null ? '–' : String(r.maxRecoveryMs),
    r.maxBackAfterRestartMs === null ? '–' : String(r.maxBackAfterRestartMs),
    r.deployment === 'embedded' && r.fault === 'stop-worker' ? String(r.lockStalls) : '–',
    r.ok ? 'ok' : 'FAIL',
  ];
}

export function markdownTable(results: readonly SessionResult[]): string {
  const rows = [HEADER, HEADER.map(() => '---'), ...results.map(resultRow)];
  return rows.map((cells) => `| ${cells.join(' | ')} |`).join('\n');
}
