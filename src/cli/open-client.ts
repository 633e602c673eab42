import type { SpoolClient } from '../api/contract.ts';
import { connect } from '../client/connect.ts';
import { WS_PATH } from '../protocol/frames.ts';
import { openSpool } from './open-spool.ts';
import { forCommandLine } from './operation.ts';
import type { Target } from './target.ts';

/** A Spool for a long-running command, and where it is, for its notes. */
export interface OpenedClient {
  readonly client: SpoolClient;
  /** The store's location, or the broker's URL. */
  readonly location: string;
}

/**
 * Opens a Spool for a long-running command (`work`) where the command runs: the store, with
 * maintenance and created if missing, or the broker of `--url` over its WebSocket protocol
 * (`Spool.connect`, with the token), which reconnects by itself.
 * @throws StoreUnavailableError (exit 5) when no broker answers at the URL within connectTimeoutMs.
 */
export async function openClient(target: Target, client: string): Promise<OpenedClient> {
  if (target.kind === 'store') {
    const spool = await openSpool(target.store, { maintenance: true, create: true });
    return { client: spool, location: spool.store.location };
  }
  const ws = new URL(target.url + WS_PATH);
  ws.protocol = ws.protocol === 'https:' ? 'wss:' : 'ws:';
  try {
    const remote = await connect(ws.href, { client, ...(target.token === undefined ? {} : { token: target.token }) });
    return { client: remote, location: target.url };
  } catch (err) {
    throw forCommandLine(err);
  }
}
