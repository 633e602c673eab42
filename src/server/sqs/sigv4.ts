/**
 * AWS Signature Version 4, checked by computing the signature again: the canonical request as
 * `@smithy/signature-v4` (the signer the AWS SDKs use) writes it, over exactly the headers the
 * client says it signed, then the string to sign and its HMAC with the signing key, which is
 * derived once per secret, day, region and service (it changes only with those) rather than per
 * request. Signatures are compared in constant time.
 */
import { createHash, createHmac, createSecretKey, hash, timingSafeEqual, type Hash as NodeHash, type Hmac, type KeyObject } from 'node:crypto';
import { getCanonicalHeaders, SignatureV4Base } from '@smithy/signature-v4';
import type { HttpRequest } from '@smithy/types';
import { SqsError } from './errors.ts';

/** SHA-256 (or HMAC-SHA256 with a key) over node:crypto, in the shape the signer wants. */
export class Sha256 {
  readonly #hash: NodeHash | Hmac;
  constructor(secret?: string | ArrayBuffer | ArrayBufferView) {
    const key = typeof secret === 'string' ? secret : secret === undefined ? undefined : Buffer.from(ArrayBuffer.isView(secret) ? new Uint8Array(secret.buffer, secret.byteOffset, secret.byteLength) : new Uint8Array(secret));
    this.#hash = key === undefined ? createHash('sha256') : createHmac('sha256', key);
  }
  update(data: string | Uint8Array): void {
    this.#hash.update(data);
  }
  async digest(): Promise<Uint8Array> {
    return new Uint8Array(this.#hash.digest());
  }
  reset(): void {
    throw new Error('Sha256: reset is not supported; make a new one');
  }
}

/** A request as received, for verification: the raw path (as sent), the query, the headers and the body bytes. */
export interface SignedRequest {
  method: string;
  path: string;
  query: Record<string, string | string[]>;
  headers: Readonly<Record<string, string | string[] | undefined>>;
  body: Buffer;
}

/** What an `Authorization: AWS4-HMAC-SHA256 …` header holds. */
export interface SignatureParts {
  accessKeyId: string;
  date: string;
  region: string;
  service: string;
  signedHeaders: string[];
  signature: string;
}

const AUTH_RE = /^AWS4-HMAC-SHA256\s+Credential=([^/\s,]+)\/(\d{8})\/([^/\s,]+)\/([^/\s,]+)\/aws4_request\s*,\s*SignedHeaders=([a-z0-9;_.-]+)\s*,\s*Signature=([0-9a-f]{64})\s*$/i;

/**
 * The parts of the Authorization header.
 * @throws SqsError InvalidClientTokenId when there is none (an unsigned request), IncompleteSignature when it is malformed.
 */
export function parseAuthorization(header: string | undefined): SignatureParts {
  if (header === undefined || header.trim() === '') throw new SqsError('InvalidClientTokenId', 'The security token included in the request is invalid: the request is not signed (sign it with AWS Signature Version 4, see docs/sqs.md).');
  const m = AUTH_RE.exec(header.trim());
  if (!m) throw new SqsError('IncompleteSignature', 'the Authorization header is not an AWS4-HMAC-SHA256 signature with Credential, SignedHeaders and Signature');
  return { accessKeyId: m[1]!, date: m[2]!, region: m[3]!, service: m[4]!, signedHeaders: m[5]!.toLowerCase().split(';'), signature: m[6]!.toLowerCase() };
}

/** `20150830T123600Z` → Unix ms, or NaN. */
export function parseAmzDate(text: string): number {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(text);
  return m ? Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!) : Number.NaN;
}

const header = (headers: SignedRequest['headers'], name: string): string | undefined => {
  const v = headers[name];
  return Array.isArray(v) ? v.join(',') : v;
};

/** The canonical request as the SDKs' signer writes it (its path escaping, its query and header canonicalization). */
class CanonicalRequest extends SignatureV4Base {
  constructor() {
    // Credentials and region are the base class's, unused here: only the canonicalization is.
    super({ credentials: { accessKeyId: '', secretAccessKey: '' }, region: '', service: '', sha256: Sha256, uriEscapePath: true, applyChecksum: false });
  }
  of(request: HttpRequest, signedHeaders: ReadonlySet<string>, payloadHash: string): string {
    return this.createCanonicalRequest(request, getCanonicalHeaders(request, undefined, signedHeaders as Set<string>), payloadHash);
  }
}
const CANONICAL = new CanonicalRequest();

/** Most signing keys kept (each is one secret's for one day, region and service). */
const SIGNING_KEYS_MAX = 1000;
const signingKeys = new Map<string, KeyObject>();

/** The SigV4 signing key: HMAC chain of the secret over the date, the region, the service and `aws4_request`. */
function signingKey(secret: string, date: string, region: string, service: string): KeyObject {
  const cacheKey = `${date}\n${region}\n${service}\n${secret}`;
  let key = signingKeys.get(cacheKey);
  if (key) return key;
  let k: Buffer = Buffer.from(`AWS4${secret}`, 'utf8');
  for (const part of [date, region, service, 'aws4_request']) k = createHmac('sha256', k).update(part).digest();
  key = createSecretKey(k);
  if (signingKeys.size >= SIGNING_KEYS_MAX) signingKeys.delete(signingKeys.keys().next().value!);
  signingKeys.set(cacheKey, key);
  return key;
}

/**
 * Checks a request's signature with `secret`.
 * @param skewMs how far the request's X-Amz-Date may be from `now`.
 * @throws SqsError IncompleteSignature (no signed date, host or date not signed), RequestExpired (out of the skew window), SignatureDoesNotMatch.
 */
export async function verifySignature(req: SignedRequest, parts: SignatureParts, secret: string, now: number, skewMs: number): Promise<void> {
  const amzDate = header(req.headers, 'x-amz-date');
  if (amzDate === undefined) throw new SqsError('IncompleteSignature', 'the request has no X-Amz-Date header: SigV4 needs the signing time');
  const at = parseAmzDate(amzDate);
  if (!Number.isFinite(at)) throw new SqsError('IncompleteSignature', `X-Amz-Date ${JSON.stringify(amzDate)} is not a date like 20150830T123600Z`);
  if (amzDate.slice(0, 8) !== parts.date) throw new SqsError('SignatureDoesNotMatch', 'the date of the credential scope is not the date of X-Amz-Date');
  if (Math.abs(now - at) > skewMs) {
    throw new SqsError('RequestExpired', `Request has expired: signed at ${new Date(at).toISOString()}, this server's time is ${new Date(now).toISOString()} (at most ${skewMs / 1000} s apart)`);
  }
  if (!parts.signedHeaders.includes('host')) throw new SqsError('IncompleteSignature', 'the Host header must be signed');
  // The signing time must be covered by the signature, or a captured request could be replayed with a new one.
  if (!parts.signedHeaders.includes('x-amz-date')) throw new SqsError('IncompleteSignature', 'the X-Amz-Date header must be signed');
  const headers: Record<string, string> = {};
  for (const name of parts.signedHeaders) {
    const value = header(req.headers, name);
    if (value === undefined) throw new SqsError('SignatureDoesNotMatch', `the signed header ${name} is not in the request`);
    headers[name] = value;
  }
  // The signature covers the body through its hash; a client that sends the hash in
  // x-amz-content-sha256 signs that value, which must then be the body's.
  const payloadHash = hash('sha256', req.body, 'hex');
  const claimed = headers['x-amz-content-sha256'];
  if (claimed !== undefined && claimed !== payloadHash) throw new SqsError('SignatureDoesNotMatch', 'x-amz-content-sha256 is not the SHA-256 of the request body');
  const [path] = req.path.split('?', 1);
  const request: HttpRequest = { method: req.method, protocol: 'https:', hostname: headers.host!, path: path!, query: req.query, headers, body: req.body };
  const canonical = CANONICAL.of(request, new Set(parts.signedHeaders), payloadHash);
  const scope = `${parts.date}/${parts.region}/${parts.service}/aws4_request`;
  const stringToSign = `AWS4-HMAC-SHA256\n${amzDate}\n${scope}\n${hash('sha256', canonical, 'hex')}`;
  const a = createHmac('sha256', signingKey(secret, parts.date, parts.region, parts.service)).update(stringToSign).digest();
  const b = Buffer.from(parts.signature, 'hex');
  if (a.length !== b.length || !timingSafeEqual(a, b)) {
    throw new SqsError('SignatureDoesNotMatch', 'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method.');
  }
}
