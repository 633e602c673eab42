/**
 * A TCP relay on loopback between clients and one broker, which can be partitioned: while cut,
 * the bytes of the connections it carries are lost (both ways, or broker → client only) while
 * both ends still think they are up, and new connections are refused; `heal` ends those
 * connections (as a heartbeat watchdog would, later) and lets new ones through. Used by the
 * phantom-ack and idempotent-publish tests and by the fault runs (faults/).
 */
import { createServer, connect as tcpConnect, type AddressInfo, type Server, type Socket } from 'node:net';

/** Which bytes a partition loses: everything, or only what the broker sends (replies, deliveries). */
export type Cut = 'both' | 'replies';

export class PartitionRelay {
  #cut: Cut | null = null;
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

  heal(): void {
    for (const s of this.#sockets) s.destroy();
    this.#sockets.clear();
    this.#cut = null;
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
    client.on('data', (chunk: Buffer) => {
      if (this.#cut === 'both') this.#lost += chunk.length;
      else upstream.write(chunk);
    });
    upstream.on('data', (chunk: Buffer) => {
      if (!this.#cut) client.write(chunk);
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
}
