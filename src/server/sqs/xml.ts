/** The Query protocol's XML replies: an action's JSON-shaped output as SQS's XML. */

const NS = 'http://queue.amazonaws.com/doc/2012-11-05/';

export const escapeXml = (text: string): string =>
  text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' })[c]!)
    // Characters XML 1.0 cannot carry as text, written as references so a body survives the trip.
    .replace(/\r/g, '&#xD;');

/** List members and the element of each item (flattened). */
const ITEM: Record<string, string> = { QueueUrls: 'QueueUrl', queueUrls: 'QueueUrl', Messages: 'Message', Failed: 'BatchResultErrorEntry' };
/** Map members: the element of each entry and the names of its key and value. */
const MAP: Record<string, [string, string, string]> = {
  Attributes: ['Attribute', 'Name', 'Value'],
  Tags: ['Tag', 'Key', 'Value'],
  MessageAttributes: ['MessageAttribute', 'Name', 'Value'],
};

function element(name: string, value: unknown, successItem: string): string {
  if (value === undefined || value === null) return '';
  if (Array.isArray(value)) {
    const item = name === 'Successful' ? successItem : ITEM[name] ?? name;
    return value.map((v) => element(item, v, successItem)).join('');
  }
  if (typeof value === 'object') {
    const map = MAP[name];
    if (map) {
      const [entry, k, v] = map;
      return Object.entries(value).map(([key, val]) => `<${entry}><${k}>${escapeXml(key)}</${k}>${element(v, val, successItem)}</${entry}>`).join('');
    }
    return `<${name}>${Object.entries(value).map(([k, v]) => element(k, v, successItem)).join('')}</${name}>`;
  }
  return `<${name}>${escapeXml(String(value))}</${name}>`;
}

/** `<ActionResponse><ActionResult>…</ActionResult><ResponseMetadata>…</ResponseMetadata></ActionResponse>`. */
export function xmlResponse(action: string, output: Record<string, unknown>, requestId: string): string {
  const successItem = `${action}ResultEntry`;
  const body = Object.entries(output).map(([k, v]) => element(k, v, successItem)).join('');
  const result = body === '' ? '' : `<${action}Result>${body}</${action}Result>`;
  return `<?xml version="1.0"?><${action}Response xmlns="${NS}">${result}<ResponseMetadata><RequestId>${requestId}</RequestId></ResponseMetadata></${action}Response>`;
}

export function xmlError(type: string, code: string, message: string, requestId: string): string {
  return `<?xml version="1.0"?><ErrorResponse xmlns="${NS}"><Error><Type>${type}</Type><Code>${escapeXml(code)}</Code><Message>${escapeXml(message)}</Message><Detail/></Error><RequestId>${requestId}</RequestId></ErrorResponse>`;
}
