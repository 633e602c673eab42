/**
 * A TCP relay on loopback between clients and one broker, which can be partitioned: while cut,
 * the bytes of the connections it carries are lost (both ways, or broker → client only) while
 * both ends still think they are up, and new connections are refused; `heal` ends those
 * connections (as a heartbeat watchdog would, later) and lets new ones through. It can also
 * `reset` (every connection closed at once, new ones refused until `heal`: a peer that went
 * away loudly) and `delay` (every byte held back a while, in order: a slow, congested path).
 * Used by the phantom-ack and idempotent-publish tests and by the fault runs (faults/).
 */
import { createServer, connect as tcpConnect, type AddressInfo, type Server, type Socket } from 'node:net';

/** Which bytes a partition loses: everything, or only what the broker sends (replies, deliveries). */
export type Cut = 'both' | 'replies';

/** What the fault runs do to a client's path to the brokers (see {@link PartitionRelay.apply}). */
export const PATH_FAULTS = ['drop', 'replies', 'reset', 'delay'] as const;
export type PathFault = (typeof PATH_FAULTS)[number];

export class PartitionRelay {
  #cut: Cut | 'reset' | null = null;
  #delayMs = 0;
  #connections = 0;
  #lost = 0;
  readonly #sockets = new Set<Socket>();
  readonly #server: Server;

  private constructor(server: Server) {
    this.#server = server;
  }

  static async open(targetPort: number): Promise<PartitionRelay> {
    let relay!: PartitionRelay;
    const server = createServer((client) => relay.#carry(client, targetPort));
    relay = new PartitionRelay(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return relay;
  }

  get port(): number {
    return (this.#server.address() as AddressInfo).port;
  }

  get url(): string {
    return `ws://127.0.0.1:${this.port}`;
  }

  /** Connections the relay has carried to the broker. */
  connections(): number {
    return this.#connections;
  }

  /** Bytes from a client lost to a partition: a request sent into it shows up here. */
  lostRequestBytes(): number {
    return this.#lost;
  }

  cut(what: Cut = 'both'): void {
    this.#cut = what;
  }

  /** Closes every connection now and refuses new ones until {@link heal}. */
  reset(): void {
    this.#cut = 'reset';
    for (const s of this.#sockets) s.destroy();
    this.#sockets.clear();
  }

  /** Holds every byte back `ms` (both ways, order kept) until {@link heal}; connections stay up. */
  delay(ms: number): void {
    this.#delayMs = ms;
  }

  /** One of the fault runs' path faults: `drop` and `replies` are {@link cut}s, `delay` holds bytes back `delayMs`. */
  apply(fault: PathFault, delayMs: number): void {
    if (fault === 'drop') this.cut('both');
    else if (fault === 'replies') this.cut('replies');
    else if (fault === 'reset') this.reset();
    else this.delay(delayMs);
  }

  /** Ends the fault. Connections a cut left hanging are closed (their peers would time them out); delayed ones carry on. */
  heal(): void {
    if (this.#cut) {
      for (const s of this.#sockets) s.destroy();
      this.#sockets.clear();
    }
    this.#cut = null;
    this.#delayMs = 0;
  }

  async close(): Promise<void> {
    for (const s of this.#sockets) s.destroy();
    await new Promise((resolve) => this.#server.close(resolve));
  }

  #carry(client: Socket, targetPort: number): void {
    if (this.#cut) return void client.destroy(); // the broker cannot be reached during a partition
    this.#connections++;
    const upstream = tcpConnect(targetPort, '127.0.0.1');
    this.#sockets.add(client).add(upstream);
    const toBroker = this.#sender(upstream);
    const toClient = this.#sender(client);
    client.on('data', (chunk: Buffer) => {
      if (this.#cut === 'both') this.#lost += chunk.length;
      else toBroker(chunk);
    });
    upstream.on('data', (chunk: Buffer) => {
      if (!this.#cut) toClient(chunk);
    });
    // A close is forwarded only while the path is up: across a partition it would be lost too.
    const forwardClose = (to: Socket) => () => {
      if (!this.#cut) to.destroy();
    };
    client.on('close', forwardClose(upstream));
    upstream.on('close', forwardClose(client));
    client.on('error', () => {});
    upstream.on('error', () => {});
  }

  /** Writes to `to` now, or after the delay; in order: nothing overtakes a chunk held back earlier. */
  #sender(to: Socket): (chunk: Buffer) => void {
    const held: { at: number; chunk: Buffer }[] = [];
    const flush = () => {
      while (held.length > 0 && held[0]!.at <= Date.now()) {
        const { chunk } = held.shift()!;
        if (!to.destroyed) to.write(chunk);
      }
      if (held.length > 0) setTimeout(flush, held[0]!.at - Date.now());
    };
    return (chunk) => {
      if (this.#delayMs === 0 && held.length === 0) return void to.write(chunk);
      held.push({ at: Date.now() + this.#delayMs, chunk });
      if (held.length === 1) setTimeout(flush, this.#delayMs);
    };
  }
}
