/**
 * The Query protocol's input (form-encoded `Action=…&QueueUrl=…&Attribute.1.Name=…`): its
 * flattened lists and maps made into the JSON protocol's input shape, so both protocols run the
 * same actions.
 */

type Tree = { [key: string]: Tree | string };

/** Input members that are integers. */
const INTEGERS = new Set(['DelaySeconds', 'MaxNumberOfMessages', 'VisibilityTimeout', 'WaitTimeSeconds', 'MaxResults', 'MaxNumberOfMessagesPerSecond']);
/** Flattened lists: the Query name of one item, and the JSON member of the list. */
const LISTS: Record<string, string> = {
  AttributeName: 'AttributeNames', MessageSystemAttributeName: 'MessageSystemAttributeNames', MessageAttributeName: 'MessageAttributeNames', TagKey: 'TagKeys',
  SendMessageBatchRequestEntry: 'Entries', DeleteMessageBatchRequestEntry: 'Entries', ChangeMessageVisibilityBatchRequestEntry: 'Entries',
};
/** Flattened maps: the Query name of one entry, the JSON member, and the entry's key and value fields. */
const MAPS: Record<string, { to: string; key: string; value: string }> = {
  Attribute: { to: 'Attributes', key: 'Name', value: 'Value' },
  MessageAttribute: { to: 'MessageAttributes', key: 'Name', value: 'Value' },
  MessageSystemAttribute: { to: 'MessageSystemAttributes', key: 'Name', value: 'Value' },
  Tag: { to: 'Tags', key: 'Key', value: 'Value' },
};

function treeOf(params: URLSearchParams): Tree {
  const root: Tree = {};
  for (const [key, value] of params) {
    const path = key.split('.');
    let node = root;
    for (const part of path.slice(0, -1)) {
      const next = node[part];
      if (typeof next === 'object') node = next;
      else node = node[part] = Object.create(null) as Tree;
    }
    node[path.at(-1)!] = value;
  }
  return root;
}

/** Items of a flattened list, in index order (`.1`, `.2`, …). */
const items = (node: Tree | string): (Tree | string)[] =>
  typeof node === 'string' ? [node] : Object.keys(node).filter((k) => /^\d+$/.test(k)).sort((a, b) => Number(a) - Number(b)).map((k) => node[k]!);

function convert(node: Tree): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(node)) {
    if (key in LISTS) out[LISTS[key]!] = items(value).map((v) => (typeof v === 'string' ? v : convert(v)));
    else if (key in MAPS) {
      const m = MAPS[key]!;
      const map: Record<string, unknown> = {};
      for (const entry of items(value)) {
        if (typeof entry === 'string') continue;
        const name = entry[m.key];
        const v = entry[m.value];
        if (typeof name === 'string') map[name] = typeof v === 'object' ? convert(v) : v;
      }
      out[m.to] = map;
    } else if (INTEGERS.has(key) && typeof value === 'string' && /^-?\d+$/.test(value)) out[key] = Number(value);
    else out[key] = typeof value === 'string' ? value : convert(value);
  }
  return out;
}

/** The action and its input from Query parameters. */
export function queryInput(params: URLSearchParams): { action: string | null; input: Record<string, unknown> } {
  const { Action, Version: _v, ...rest } = convert(treeOf(params));
  const input = rest as Record<string, unknown>;
  // CreateQueue's tags are `tags` in the JSON protocol.
  if (Action === 'CreateQueue' && input.Tags !== undefined) {
    input.tags = input.Tags;
    delete input.Tags;
  }
  return { action: typeof Action === 'string' ? Action : null, input };
}
