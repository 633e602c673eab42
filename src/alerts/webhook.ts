/**
 * One alert webhook call: the documented JSON body (docs/operations.md, Alerts), signed with
 * the rule's secret when it has one, POSTed with a timeout. Any 2xx is delivered; anything
 * else (another status, a refused connection, the timeout) is a failed attempt, retried.
 */
import { createHmac } from 'node:crypto';
import type { AlertDelivery } from '../store/alert-store.ts';

/** What a webhook receives. `version` changes only if a field changes meaning. */
export interface AlertWebhookBody {
  version: 1;
  /** The event's id: a receiver that sees one twice (a retry after a lost answer) may drop it. */
  id: number;
  event: 'firing' | 'resolved';
  rule: { id: string; queue: string; kind: string; threshold: number };
  value: number | null;
  reason: string;
  /** When it fired or resolved, ISO 8601. */
  at: string;
  /** This call's attempt, from 1. */
  attempt: number;
}

export function webhookBody(d: AlertDelivery): AlertWebhookBody {
  const e = d.event;
  return {
    version: 1, id: e.id, event: e.event, rule: { id: e.ruleId, queue: e.queue, kind: e.kind, threshold: e.threshold },
    value: e.value, reason: e.reason, at: new Date(e.at).toISOString(), attempt: e.attempts,
  };
}

/** The signature header's value for `body`: what a receiver recomputes with the shared secret. */
export function signature(secret: string, body: string): string {
  return 'sha256=' + createHmac('sha256', secret).update(body).digest('hex');
}

/** Makes the call. @returns null when delivered, or why it failed. */
export async function callWebhook(d: AlertDelivery, timeoutMs: number): Promise<string | null> {
  const body = JSON.stringify(webhookBody(d));
  const headers: Record<string, string> = { 'content-type': 'application/json', 'user-agent': 'spool-alerts' };
  if (d.secret !== null) headers['spool-signature'] = signature(d.secret, body);
  try {
    const res = await fetch(d.webhook, { method: 'POST', headers, body, signal: AbortSignal.timeout(timeoutMs), redirect: 'manual' });
    await res.body?.cancel();
    return res.status >= 200 && res.status < 300 ? null : `the webhook answered ${res.status}`;
  } catch (err) {
    const e = err as Error & { cause?: { code?: string; message?: string } };
    if (e.name === 'TimeoutError') return `the webhook did not answer within ${timeoutMs} ms`;
    return `the webhook could not be reached: ${e.cause?.code ?? e.cause?.message ?? e.message}`;
  }
}
