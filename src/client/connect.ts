import type { ConnectOptions, RemoteSpool } from './remote-spool.ts';

/**
 * Connects to one or more brokers (`spool serve`) and returns a Spool with the same queue,
 * worker and job API as an embedded one ({@link SpoolClient}). Reconnects by itself, across
 * the URLs, with backoff. Exported as `Spool.connect`.
 * @example
 * const spool = await Spool.connect(['ws://broker-a:7600', 'ws://broker-b:7600'], { token: process.env.SPOOL_TOKEN });
 */
export async function connect(urls: string | readonly string[], options?: ConnectOptions): Promise<RemoteSpool> {
  // Loaded on first use: a program that only embeds Spool does not carry the WebSocket client in memory.
  const { RemoteSpool } = await import('./remote-spool.ts');
  return RemoteSpool.connect(urls, options);
}
