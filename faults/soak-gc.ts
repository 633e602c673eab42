// Preloaded into every process of a soak (NODE_OPTIONS="--expose-gc --import <this file>"): a full
// collection once a minute, so the RSS the soak judges is what a process retains, not how much
// garbage V8 chose to let pile up before collecting. Without it, a worker whose live heap stayed
// at 14 MB grew its RSS by tens of MB over half an hour (docs/reliability.md, Soak); a leak still
// grows RSS under it, minute after minute.
const collect = (globalThis as { gc?: () => void }).gc;
if (collect) setInterval(collect, 60_000).unref();
