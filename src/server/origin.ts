import type { IncomingHttpHeaders } from 'node:http';

/**
 * Why a request from a browser page of another site is refused, or null when it is not one.
 * The broker sends no CORS headers, so no other site may use it from a browser; but a browser
 * still *sends* a form POST or a WebSocket upgrade to any address, and with auth off (loopback)
 * that alone would let any web page the operator visits purge or pause queues. Requests from
 * non-browser clients carry neither header and pass.
 */
export function crossSiteRefusal(headers: IncomingHttpHeaders): string | null {
  if (headers['sec-fetch-site'] === 'cross-site') return 'a request from a web page of another site is refused';
  const origin = headers.origin;
  if (origin === undefined || origin === 'null' && headers['sec-fetch-site'] === undefined) return null;
  let host: string;
  try {
    host = new URL(origin).host;
  } catch {
    return `the Origin header ${JSON.stringify(origin.slice(0, 100))} is not a URL`;
  }
  if (host !== headers.host) return `a request from ${origin.slice(0, 100)} (another origin than this broker's) is refused`;
  return null;
}
