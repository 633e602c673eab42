/**
 * The broker, for embedding it in your own process: serve a Spool over HTTP and
 * WebSocket, with API tokens.
 * @example
 * import { Spool } from 'spool-queue';
 * import { startBroker, Authenticator } from 'spool-queue/server';
 * const spool = await Spool.open();
 * const broker = await startBroker(spool, { port: 7600, auth: new Authenticator(spool.store) });
 * @module spool-queue/server
 */
export { startBroker, type Broker, type BrokerOptions, type SqsOptions } from './broker.ts';
export type { BrokerHost } from './host.ts';
export { sqsCredentials } from './sqs/credentials.ts';
export { buildHttpApi, type ServerOptions } from './app.ts';
export { Authenticator, type AuthMode, type AuthenticatorOptions } from './auth/authenticator.ts';
export { createToken, type CreatedToken } from './auth/tokens.ts';
export { parseScope, type Principal, type Scope } from './auth/scopes.ts';
export { engineLogOptions, LOG_EVENTS, type BrokerLogger, type LogEvent, type LogLevel } from './logging.ts';
export { createLogger, type LogFormat, type LoggerOptions } from './log-output.ts';
export type { SpoolEvent } from '../engine/options.ts';
