/**
 * The MD5 digests SQS answers with, computed exactly as SQS computes them: the SDKs compute the
 * same and refuse a reply whose digests differ.
 */
import { hash } from 'node:crypto';

/** A message attribute as the JSON protocol carries it (BinaryValue in base64). */
export interface MessageAttributeValue {
  DataType: string;
  StringValue?: string;
  BinaryValue?: string;
}

// crypto.hash: the one-shot digest, cheaper than a Hash object for one buffer.
export const md5Hex = (data: string | Buffer): string => hash('md5', data, 'hex');

function lengthPrefixed(bytes: Buffer): Buffer {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(bytes.length);
  return Buffer.concat([len, bytes]);
}

/**
 * MD5 of message attributes: for each attribute in name order, its name, its data type, a
 * transport byte (1: String or Number, 2: Binary) and its value, each length-prefixed (4 bytes,
 * big-endian). Null when there are none: SQS then sends no digest.
 */
export function md5OfAttributes(attributes: Readonly<Record<string, MessageAttributeValue>> | undefined): string | null {
  const names = Object.keys(attributes ?? {}).sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
  if (names.length === 0) return null;
  const parts: Buffer[] = [];
  for (const name of names) {
    const a = attributes![name]!;
    parts.push(lengthPrefixed(Buffer.from(name, 'utf8')), lengthPrefixed(Buffer.from(a.DataType, 'utf8')));
    if (a.DataType.startsWith('Binary')) {
      parts.push(Buffer.from([2]), lengthPrefixed(Buffer.from(a.BinaryValue ?? '', 'base64')));
    } else {
      parts.push(Buffer.from([1]), lengthPrefixed(Buffer.from(a.StringValue ?? '', 'utf8')));
    }
  }
  return md5Hex(Buffer.concat(parts));
}
