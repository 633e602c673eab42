import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SignatureV4 } from '@smithy/signature-v4';
import { SqsError } from './errors.ts';
import { parseAuthorization, Sha256, verifySignature } from './sigv4.ts';

/** AWS's published SigV4 test suite (aws-sig-v4-test-suite): credentials, scope and time of every case. */
const SECRET = 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY';
const AT = Date.UTC(2015, 7, 30, 12, 36, 0);
const SKEW = 5 * 60_000;

const VECTORS = [
  { name: 'get-vanilla', method: 'GET', query: {}, headers: {}, body: '', signed: 'host;x-amz-date', signature: '5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31' },
  { name: 'post-vanilla', method: 'POST', query: {}, headers: {}, body: '', signed: 'host;x-amz-date', signature: '5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b' },
  { name: 'get-vanilla-query-order-key-case', method: 'GET', query: { Param2: 'value2', Param1: 'value1' }, headers: {}, body: '', signed: 'host;x-amz-date', signature: 'b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500' },
  { name: 'post-x-www-form-urlencoded', method: 'POST', query: {}, headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'Param1=value1', signed: 'content-type;host;x-amz-date', signature: 'ff11897932ad3f4e8b18135d722051e5ac45fc38421b1da7b9d196a0fe09473a' },
] as const;

function request(v: (typeof VECTORS)[number], change: { body?: string; secret?: string; now?: number; header?: string } = {}) {
  const authorization = `AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=${v.signed}, Signature=${v.signature}`;
  const headers = { host: 'example.amazonaws.com', 'x-amz-date': '20150830T123600Z', ...v.headers, authorization, ...(change.header ? { 'content-type': change.header } : {}) };
  const req = { method: v.method, path: '/', query: { ...v.query }, headers, body: Buffer.from(change.body ?? v.body) };
  return verifySignature(req, parseAuthorization(authorization), change.secret ?? SECRET, change.now ?? AT, SKEW);
}

const refusedWith = (code: string) => (err: unknown) => err instanceof SqsError && err.code === code;

describe('SigV4 verification', () => {
  for (const v of VECTORS) {
    it(`accepts AWS's ${v.name} test vector, and refuses it altered`, async () => {
      await request(v);
      await assert.rejects(request(v, { secret: SECRET.replace('E', 'F') }), refusedWith('SignatureDoesNotMatch'));
      await assert.rejects(request(v, { body: `${v.body}x` }), refusedWith('SignatureDoesNotMatch'));
    });
  }

  it('refuses a signed header changed, a request outside the clock-skew window, and a malformed header', async () => {
    await assert.rejects(request(VECTORS[3], { header: 'text/plain' }), refusedWith('SignatureDoesNotMatch'));
    await request(VECTORS[0], { now: AT + SKEW });
    await assert.rejects(request(VECTORS[0], { now: AT + SKEW + 1 }), refusedWith('RequestExpired'));
    await assert.rejects(request(VECTORS[0], { now: AT - SKEW - 1 }), refusedWith('RequestExpired'));
    // The same signature with X-Amz-Date left out of the signed headers: the date is not covered.
    const v = VECTORS[0];
    const unsignedDate = `AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host, Signature=${v.signature}`;
    await assert.rejects(verifySignature({ method: 'GET', path: '/', query: {}, headers: { host: 'example.amazonaws.com', 'x-amz-date': '20150830T123600Z', authorization: unsignedDate }, body: Buffer.alloc(0) },
      parseAuthorization(unsignedDate), SECRET, AT, SKEW), refusedWith('IncompleteSignature'));
    assert.throws(() => parseAuthorization(undefined), refusedWith('InvalidClientTokenId'));
    assert.throws(() => parseAuthorization('Bearer spool_x'), refusedWith('IncompleteSignature'));
  });

  it('checks the body against a signed x-amz-content-sha256, and the secret, region and day against the signing key', async () => {
    const sign = async (body: string, region: string, secret = SECRET) => {
      const signer = new SignatureV4({ credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: secret }, region, service: 'sqs', sha256: Sha256, applyChecksum: true });
      const signed = await signer.sign({ method: 'POST', protocol: 'https:', hostname: 'example.com', path: '/', query: {}, headers: { host: 'example.com' }, body }, { signingDate: new Date(AT) });
      assert.ok(signed.headers['x-amz-content-sha256'], 'the signer sent the payload hash');
      return signed.headers as Record<string, string>;
    };
    const verify = (headers: Record<string, string>, body: string, secret = SECRET) =>
      verifySignature({ method: 'POST', path: '/', query: {}, headers, body: Buffer.from(body) }, parseAuthorization(headers.authorization), secret, AT, SKEW);
    const headers = await sign('Action=SendMessage', 'eu-west-1');
    await verify(headers, 'Action=SendMessage');
    // The hash header is signed, but the body is not the one it hashes.
    await assert.rejects(verify(headers, 'Action=PurgeQueue'), refusedWith('SignatureDoesNotMatch'));
    // Signing keys of other regions and secrets are their own.
    await verify(await sign('x', 'us-west-2'), 'x');
    await assert.rejects(verify(await sign('x', 'us-west-2', 'other-secret'), 'x'), refusedWith('SignatureDoesNotMatch'));
    await verify(await sign('x', 'us-west-2', 'other-secret'), 'x', 'other-secret');
  });
});
