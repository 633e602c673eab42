import type pg from 'pg';
import { connectClient } from './pg-client.ts';

/**
 * A dedicated connection that LISTENs on one channel and reconnects by itself
 * (every 50 ms, backing off to 1 s) when the server goes away. Notifications sent
 * while it was away are lost; consumers poll as a fallback.
 */
export class PgListener {
  readonly #url: string;
  readonly #channel: string;
  readonly #onMessage: (payload: string) => void;
  #client: pg.Client | null = null;
  #closed = false;
  #retry: NodeJS.Timeout | null = null;
  #attempt = 0;

  constructor(url: string, channel: string, onMessage: (payload: string) => void) {
    this.#url = url;
    this.#channel = channel;
    this.#onMessage = onMessage;
  }

  /** Connects and listens; rejects if the first connection fails. */
  async start(): Promise<void> {
    await this.#connect();
  }

  async #connect(): Promise<void> {
    const client = await connectClient(this.#url, { connectionTimeoutMillis: 5000, application_name: 'spool-listen' });
    client.on('error', () => this.#lost(client));
    client.on('end', () => this.#lost(client));
    client.on('notification', (msg) => {
      if (msg.channel === this.#channel && msg.payload !== undefined) this.#onMessage(msg.payload);
    });
    try {
      await client.query(`LISTEN "${this.#channel}"`);
    } catch (err) {
      // e.g. a standby (LISTEN is refused in recovery) with target_session_attrs=any: the caller retries, not #lost.
      client.removeAllListeners('end').removeAllListeners('error').on('error', () => {});
      await client.end().catch(() => {});
      throw err;
    }
    if (this.#closed) {
      await client.end().catch(() => {});
      return;
    }
    this.#client = client;
    this.#attempt = 0;
  }

  #lost(client: pg.Client): void {
    if (this.#client !== client && this.#client !== null) return;
    this.#client = null;
    client.end().catch(() => {});
    this.#scheduleReconnect();
  }

  #scheduleReconnect(): void {
    if (this.#closed || this.#retry) return;
    const delay = Math.min(50 * 2 ** this.#attempt++, 1000);
    this.#retry = setTimeout(async () => {
      this.#retry = null;
      try {
        await this.#connect();
      } catch {
        this.#scheduleReconnect();
      }
    }, delay);
    this.#retry.unref();
  }

  async close(): Promise<void> {
    this.#closed = true;
    if (this.#retry) clearTimeout(this.#retry);
    await this.#client?.end().catch(() => {});
    this.#client = null;
  }
}
