// Counts a V8 heap snapshot's objects by type and name (constructor, for objects), and prints what
// grew between two: first by size, then the objects by count, where state kept per event (per
// failover, per job) shows as a count that grows with the events. Code compiled as a process warms
// up grows too, and stops. Objects of the constructors named after `top` are counted in both.
// Usage: node faults/heap-diff.ts first.heapsnapshot last.heapsnapshot [top] [WebSocket Socket Map …]
import { readFileSync } from 'node:fs';

function counts(path: string): Map<string, { n: number; size: number }> {
  const snap = JSON.parse(readFileSync(path, 'utf8'));
  const f = snap.snapshot.meta.node_fields as string[];
  const types = snap.snapshot.meta.node_types[0] as string[];
  const stride = f.length;
  const iType = f.indexOf('type'), iName = f.indexOf('name'), iSize = f.indexOf('self_size');
  const nodes = snap.nodes as number[];
  const strings = snap.strings as string[];
  const out = new Map<string, { n: number; size: number }>();
  for (let i = 0; i < nodes.length; i += stride) {
    const type = types[nodes[i + iType]!]!;
    let name = strings[nodes[i + iName]!]!;
    if (type === 'string' || type === 'concatenated string' || type === 'sliced string') name = '';
    if (type === 'code' || type === 'hidden') name = name.slice(0, 40);
    const key = `${type}:${name.slice(0, 80)}`;
    const c = out.get(key) ?? { n: 0, size: 0 };
    c.n++;
    c.size += nodes[i + iSize]!;
    out.set(key, c);
  }
  return out;
}
const [a, b, top, ...named] = process.argv.slice(2);
const ca = counts(a!), cb = counts(b!);
const rows = [...new Set([...ca.keys(), ...cb.keys()])].map((k) => {
  const x = ca.get(k) ?? { n: 0, size: 0 }, y = cb.get(k) ?? { n: 0, size: 0 };
  return { k, dn: y.n - x.n, ds: y.size - x.size, n: y.n };
});
const total = (c: Map<string, { n: number; size: number }>) => [...c.values()].reduce((s, v) => s + v.size, 0);
console.log(`total self size: ${(total(ca) / 1048576).toFixed(2)} MB → ${(total(cb) / 1048576).toFixed(2)} MB`);
rows.sort((p, q) => q.ds - p.ds);
for (const r of rows.slice(0, Number(top ?? 30))) console.log(`${String(r.dn).padStart(8)} objs ${String(r.ds).padStart(10)} B  now ${String(r.n).padStart(7)}  ${r.k}`);
console.log('--- objects, closures, arrays by count growth');
for (const r of rows.filter((r) => /^(object|closure|array|native|regexp|number|bigint|object shape|hidden):/.test(r.k) && r.k !== 'object shape:system / Map').sort((p, q) => q.dn - p.dn).slice(0, 25)) console.log(`${String(r.dn).padStart(8)} objs ${String(r.ds).padStart(10)} B  now ${String(r.n).padStart(7)}  ${r.k}`);
for (const name of named) console.log(`${name}: ${ca.get(`object:${name}`)?.n ?? 0} → ${cb.get(`object:${name}`)?.n ?? 0}`);
