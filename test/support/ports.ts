import { createServer } from 'node:net';

/** A free TCP port on 127.0.0.1 (nothing listens on it once this resolves). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** Below Linux's default range of ephemeral ports (32768–60999), where no outgoing connection's port is taken from. */
const STABLE_PORTS = { from: 20_000, to: 32_000 } as const;

/**
 * A free TCP port on 127.0.0.1 for a process that is killed and started again on it (the fault
 * runs' brokers and PostgreSQL servers): taken below the ephemeral range, so the client sockets
 * opened meanwhile by this or any other process (whose ports come from that range, as
 * {@link freePort}'s do) cannot hold it when the process starts or comes back.
 */
export async function stablePort(): Promise<number> {
  for (let tries = 0; tries < 100; tries++) {
    const port = STABLE_PORTS.from + Math.floor(Math.random() * (STABLE_PORTS.to - STABLE_PORTS.from));
    const free = await new Promise<boolean>((resolve) => {
      const server = createServer();
      server.once('error', () => resolve(false));
      server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
    });
    if (free) return port;
  }
  throw new Error(`no free port among 100 tried between ${STABLE_PORTS.from} and ${STABLE_PORTS.to} on 127.0.0.1`);
}
