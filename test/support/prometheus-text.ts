/**
 * A strict parser of the Prometheus text exposition format (version 0.0.4), for tests of
 * `GET /metrics`: what it accepts, a Prometheus server can scrape. It refuses anything the
 * format forbids or leaves unclear: a sample without a `# HELP` and `# TYPE` before it, a
 * family declared twice or split, a duplicate series, a bad name, label or value, and a
 * histogram whose buckets do not add up.
 */

export type MetricType = 'counter' | 'gauge' | 'histogram' | 'summary' | 'untyped';

export interface Sample {
  /** The sample's own name: the family's, or with `_bucket`, `_sum`, `_count` for a histogram. */
  name: string;
  labels: Record<string, string>;
  value: number;
}

export interface Family {
  name: string;
  help: string;
  type: MetricType;
  samples: Sample[];
}

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const TYPES = new Set<MetricType>(['counter', 'gauge', 'histogram', 'summary', 'untyped']);

/** Parses an exposition into its families, by name. @throws Error naming the line at fault. */
export function parsePrometheusText(text: string): Map<string, Family> {
  const families = new Map<string, Family>();
  const helps = new Map<string, string>();
  const series = new Set<string>();
  let current: Family | null = null;
  const lines = text.split('\n');
  if (lines.at(-1) !== '') throw new Error('the exposition does not end with a newline');
  lines.forEach((line, i) => {
    const fail = (why: string): never => {
      throw new Error(`line ${i + 1}: ${why}: ${JSON.stringify(line)}`);
    };
    if (line === '') return;
    if (line.startsWith('#')) {
      const m = /^# (HELP|TYPE) (\S+)(?: (.*))?$/.exec(line);
      if (!m) return; // a comment
      const [, kind, name, rest = ''] = m as unknown as [string, 'HELP' | 'TYPE', string, string | undefined];
      if (!METRIC_NAME.test(name)) fail(`bad metric name ${name}`);
      if (kind === 'HELP') {
        if (helps.has(name)) fail(`a second HELP for ${name}`);
        helps.set(name, unescapeHelp(rest, fail));
        return;
      }
      if (!TYPES.has(rest as MetricType)) fail(`unknown type ${rest}`);
      if (families.has(name)) fail(`a second TYPE for ${name}`);
      const help = helps.get(name);
      if (help === undefined) fail(`TYPE of ${name} before its HELP`);
      current = { name, help: help!, type: rest as MetricType, samples: [] };
      families.set(name, current);
      return;
    }
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{.*\})? (\S+)(?: (-?\d+))?$/.exec(line);
    if (!m) fail('not a sample line');
    const [, name, labelText, valueText] = m as unknown as [string, string, string | undefined, string];
    const family: Family | null = current;
    if (!family || !belongsTo(name, family)) fail(`sample ${name} outside its family (no TYPE for it just before, or its family is split)`);
    const labels = labelText === undefined ? {} : parseLabels(labelText, fail);
    if (family!.type === 'histogram' && name.endsWith('_bucket') !== ('le' in labels)) fail('a histogram bucket needs le, and only a bucket has it');
    const key = `${name}${JSON.stringify(Object.entries(labels).sort())}`;
    if (series.has(key)) fail('a duplicate series');
    series.add(key);
    family!.samples.push({ name, labels, value: parseValue(valueText, fail) });
  });
  for (const family of families.values()) if (family.type === 'histogram') checkHistogram(family);
  return families;
}

function belongsTo(name: string, family: Family): boolean {
  if (name === family.name) return family.type !== 'histogram' && family.type !== 'summary';
  const suffixes = family.type === 'histogram' ? ['_bucket', '_sum', '_count'] : family.type === 'summary' ? ['_sum', '_count'] : [];
  return suffixes.some((s) => name === family.name + s);
}

function unescapeHelp(text: string, fail: (why: string) => never): string {
  return text.replace(/\\(.?)/g, (_, c: string) => (c === 'n' ? '\n' : c === '\\' ? '\\' : fail(`bad escape \\${c} in HELP`)));
}

/** `{a="x",b="y\"z"}`: names, quoted values with \\ \" \n escapes, commas between (one may end the set). */
function parseLabels(text: string, fail: (why: string) => never): Record<string, string> {
  const labels: Record<string, string> = {};
  let i = 1;
  while (text[i] !== '}') {
    const eq = text.indexOf('=', i);
    if (eq < 0) fail('a label without =');
    const name = text.slice(i, eq);
    if (!LABEL_NAME.test(name)) fail(`bad label name ${JSON.stringify(name)}`);
    if (name in labels) fail(`label ${name} twice`);
    if (text[eq + 1] !== '"') fail(`the value of ${name} is not quoted`);
    let value = '';
    let j = eq + 2;
    for (; j < text.length && text[j] !== '"'; j++) {
      if (text[j] !== '\\') {
        value += text[j];
        continue;
      }
      const c = text[++j];
      value += c === 'n' ? '\n' : c === '\\' || c === '"' ? c : fail(`bad escape \\${c} in the value of ${name}`);
    }
    if (j >= text.length) fail(`the value of ${name} is not closed`);
    labels[name] = value;
    i = j + 1;
    if (text[i] === ',') i++;
    else if (text[i] !== '}') fail(`no comma after label ${name}`);
  }
  if (i !== text.length - 1) fail('text after the labels');
  return labels;
}

/**
 * A float as Prometheus reads it (Go's strconv.ParseFloat): decimal, or NaN and ±Inf in any case
 * (prom-client writes `Nan`, e.g. for an event-loop mean before the first sample).
 */
function parseValue(text: string, fail: (why: string) => never): number {
  if (/^[-+]?inf(inity)?$/i.test(text)) return text.startsWith('-') ? -Infinity : Infinity;
  if (/^nan$/i.test(text)) return NaN;
  if (!/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(text)) fail(`bad value ${text}`);
  return Number(text);
}

/** Per series: buckets in increasing `le`, counts never decreasing, a `+Inf` bucket equal to `_count`, and a `_sum`. */
function checkHistogram(family: Family): void {
  const bySeries = new Map<string, Sample[]>();
  for (const s of family.samples) {
    const { le: _le, ...rest } = s.labels;
    const key = JSON.stringify(Object.entries(rest).sort());
    bySeries.set(key, [...(bySeries.get(key) ?? []), s]);
  }
  for (const [key, samples] of bySeries) {
    const where = `${family.name}${key}`;
    const buckets = samples.filter((s) => s.name.endsWith('_bucket'));
    const count = samples.find((s) => s.name === `${family.name}_count`);
    if (!count || !samples.some((s) => s.name === `${family.name}_sum`)) throw new Error(`${where}: a histogram without _count or _sum`);
    const le = (s: Sample): number => (s.labels.le === '+Inf' ? Infinity : Number(s.labels.le));
    for (let k = 1; k < buckets.length; k++) {
      if (!(le(buckets[k]!) > le(buckets[k - 1]!))) throw new Error(`${where}: buckets not in increasing le`);
      if (buckets[k]!.value < buckets[k - 1]!.value) throw new Error(`${where}: bucket le=${buckets[k]!.labels.le} counts fewer than the one before`);
    }
    const inf = buckets.at(-1);
    if (inf?.labels.le !== '+Inf' || inf.value !== count.value) throw new Error(`${where}: the last bucket is not le="+Inf" equal to _count`);
  }
}

/**
 * The value of the one sample named `name` whose labels include `labels`; undefined if there is none.
 * @throws Error when several match, or the family is missing.
 */
export function sampleValue(families: Map<string, Family>, family: string, name: string, labels: Record<string, string> = {}): number | undefined {
  const f = families.get(family);
  if (!f) throw new Error(`no family ${family}`);
  const matches = f.samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
  if (matches.length > 1) throw new Error(`${matches.length} samples of ${name} match ${JSON.stringify(labels)}`);
  return matches[0]?.value;
}
