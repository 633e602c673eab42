import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { AlertWebhookBody } from '../../alerts/webhook.ts';

/** A webhook receiver on 127.0.0.1: what it was sent, answering `status()` to each call. */
export async function webhookReceiver(status: () => number = () => 204): Promise<{ url: string; calls: { headers: IncomingHttpHeaders; raw: string; body: AlertWebhookBody }[]; close(): Promise<void> }> {
  const calls: { headers: IncomingHttpHeaders; raw: string; body: AlertWebhookBody }[] = [];
  const server = createServer((req, res) => {
    let raw = '';
    req.setEncoding('utf8');
    req.on('data', (c: string) => (raw += c));
    req.on('end', () => {
      calls.push({ headers: req.headers, raw, body: JSON.parse(raw) as AlertWebhookBody });
      res.statusCode = status();
      res.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks/spool?key=k1`;
  return { url, calls, close: () => new Promise((resolve) => server.close(() => resolve())) };
}
