/**
 * A TCP relay on loopback between one client and one broker, which can be partitioned: while
 * cut, the bytes of the connections it carries are dropped in both directions (both ends still
 * think they are up) and new connections are refused; heal ends those connections (as a
 * heartbeat watchdog would, later) and lets new ones through. After the phantom-ack test's relay
 * (src/client/phantom-ack.test.ts).
 */
import { createServer, connect as tcpConnect, type AddressInfo, type Server, type Socket } from 'node:net';

export class Relay {
  #cut = false;
  readonly #sockets = new Set<Socket>();
  readonly #server: Server;

  private constructor(server: Server) {
    this.#server = server;
  }

  static async open(targetPort: number): Promise<Relay> {
    let relay!: Relay;
    const server = createServer((client) => relay.#carry(client, targetPort));
    relay = new Relay(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return relay;
  }

  get url(): string {
    return `ws://127.0.0.1:${(this.#server.address() as AddressInfo).port}`;
  }

  cut(): void {
    this.#cut = true;
  }

  heal(): void {
    for (const s of this.#sockets) s.destroy();
    this.#sockets.clear();
    this.#cut = false;
  }

  async close(): Promise<void> {
    for (const s of this.#sockets) s.destroy();
    await new Promise((resolve) => this.#server.close(resolve));
  }

  #carry(client: Socket, targetPort: number): void {
    if (this.#cut) return void client.destroy();
    const upstream = tcpConnect(targetPort, '127.0.0.1');
    this.#sockets.add(client).add(upstream);
    client.on('data', (chunk: Buffer) => {
      if (!this.#cut) upstream.write(chunk);
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
