import { hostname } from 'node:os';
import type { Clock, TimerHandle } from '../core/clock.ts';
import type { ConsumerInfo, ProcessInfo, ProcessStatus } from '../model/overview.ts';
import { SAMPLER } from '../model/sampler.ts';
import type { CountsByQueue, ProcessSnapshot, Store } from '../store/store.ts';
import type { QueueCounts } from './telemetry.ts';

/** The cluster view's bounds: every one a constant, stated here. */
export const CLUSTER = {
  /** A process publishes its snapshot this often when something changed (the sampler's tick)… */
  publishMs: SAMPLER.tickMs,
  /** …and at least this often, as a sign of life. */
  heartbeatMs: 5000,
  /** A process whose snapshot is at most this old is live: its worker slots and consumers count. */
  liveMs: 15_000,
  /** A process silent this long is retired: its counts move to the retired sums and its row goes. */
  retireAfterMs: 2 * SAMPLER.windowMs,
  /** Most consumers one process publishes (a broker with more lists the first ones). */
  consumersMax: 1000,
} as const;

/** What this process knows of itself, from memory. */
export interface LocalView {
  /** Whether it leads the store's upkeep now. */
  leading(): boolean;
  counts(): Map<string, QueueCounts>;
  slots(): Map<string, { slots: number; inFlight: number }>;
  /** Its consumers, without `process` (the view adds it). */
  consumers(): Omit<ConsumerInfo, 'process'>[];
}

/** The `live` part of a snapshot, as published (JSON). */
interface Live {
  slots: Record<string, { slots: number; inFlight: number }>;
  consumers: Omit<ConsumerInfo, 'process'>[];
  leading: boolean;
}

type Slots = Map<string, { slots: number; inFlight: number }>;

const FIELDS = ['added', 'claimed', 'completed', 'failed', 'dead', 'expired', 'serviceMsSum', 'serviceCount', 'systemMsSum', 'systemCount', 'dropped'] as const satisfies readonly (keyof QueueCounts)[];
const zero = (): QueueCounts => ({ added: 0, claimed: 0, completed: 0, failed: 0, dead: 0, expired: 0, serviceMsSum: 0, serviceCount: 0, systemMsSum: 0, systemCount: 0, dropped: 0 });

/**
 * The queueing model's inputs for the whole cluster, not just this process. Each process that
 * shares the store publishes a snapshot of itself once a second when something changed (every
 * 5 s at least): its cumulative counts per queue, its worker slots and its consumers, in a row
 * of its own (Store.processSnapshotPut). The view reads every row in one read per sampler tick
 * (refresh) and serves the sums: counts over every row plus the retired sums (the leader folds a
 * process silent for two model windows into them, in the transaction that deletes its row, so the
 * sums never go down), slots and consumers over the live rows. This process's own numbers come
 * from memory, fresh, not from its row.
 */
export class ClusterView {
  /** This process, as the consumers it serves name it. */
  readonly process: ProcessInfo;
  readonly #store: Store;
  readonly #clock: Clock;
  readonly #local: LocalView;
  readonly #onError: (err: unknown) => void;
  #timer: TimerHandle | null = null;
  #started = false;
  #publishing: Promise<void> | null = null;
  /** Whether this process's row exists, as far as it knows (a put committed and no read found it gone since). */
  #published = false;
  /** Puts committed so far: a read that overlapped one cannot tell whether the row was there. */
  #puts = 0;
  /** The local counts at the last committed put (what a retirement of the row added to the retired sums). */
  #lastPut = new Map<string, QueueCounts>();
  /** The part of the local counts already in the retired sums (after the row was retired): left out of the row and of counts(). */
  #base = new Map<string, QueueCounts>();
  #lastKey = '';
  #lastPutAt = -Infinity;
  /** The other processes (and the retired sums), as the last refresh read them. */
  #others: { counts: Map<string, QueueCounts>; slots: Slots; consumers: ConsumerInfo[]; processes: ProcessStatus[] } = { counts: new Map(), slots: new Map(), consumers: [], processes: [] };

  constructor(o: { store: Store; clock: Clock; id: string; local: LocalView; onError: (err: unknown) => void }) {
    this.#store = o.store;
    this.#clock = o.clock;
    this.#local = o.local;
    this.#onError = o.onError;
    this.process = { id: o.id, host: hostname(), pid: process.pid };
  }

  /** Whether the store keeps snapshots: without, the view is this process alone. */
  get shared(): boolean {
    return typeof this.#store.processSnapshotPut === 'function' && typeof this.#store.processSnapshotsRead === 'function';
  }

  /** Starts publishing this process's snapshot (idempotent). */
  start(): void {
    if (this.#started || !this.shared) return;
    this.#started = true;
    const tick = async (): Promise<void> => {
      await this.publish(false);
      if (this.#started) this.#timer = this.#clock.setTimeout(tick, CLUSTER.publishMs);
    };
    this.#timer = this.#clock.setTimeout(tick, 0);
  }

  /** Stops publishing, after a last snapshot (what this process counted stays in the cluster's sums). */
  async stop(): Promise<void> {
    if (!this.#started) return;
    this.#started = false;
    if (this.#timer) this.#clock.clearTimeout(this.#timer);
    this.#timer = null;
    await this.#publishing;
    await this.publish(true);
  }

  /** Publishes the snapshot if it changed, or a heartbeat is due, or `force`; never two at once. */
  publish(force: boolean): Promise<void> {
    this.#publishing ??= this.#publish(force).catch((err) => this.#onError(err)).finally(() => (this.#publishing = null));
    return this.#publishing;
  }

  async #publish(force: boolean): Promise<void> {
    const counts = this.#local.counts();
    const live: Live = { slots: Object.fromEntries(this.#local.slots()), consumers: this.#local.consumers().slice(0, CLUSTER.consumersMax), leading: this.#local.leading() };
    const key = JSON.stringify([[...counts], live.slots, live.consumers.map((c) => ({ ...c, lastSeenAt: 0 })), live.leading]);
    const at = this.#clock.now();
    if (!force && key === this.#lastKey && at - this.#lastPutAt < CLUSTER.heartbeatMs) return;
    const snapshot = (): ProcessSnapshot => ({ ...this.process, at, counts: toRecord(minus(counts, this.#base)), live: JSON.stringify(live) });
    if (!(await this.#store.processSnapshotPut!(snapshot(), this.#published))) {
      // The row is gone: the leader retired it while this process was silent, so its counts up to
      // the last put are in the retired sums. From now on, publish (and count) only what came after.
      this.#retired();
      await this.#store.processSnapshotPut!(snapshot(), false);
    }
    this.#published = true;
    this.#puts++;
    this.#lastPut = counts;
    this.#lastKey = key;
    this.#lastPutAt = at;
  }

  /** The row was found retired: what it held is in the retired sums now. */
  #retired(): void {
    if (!this.#published) return; // already seen
    this.#published = false;
    this.#base = this.#lastPut;
  }

  /** Reads every process's snapshot (one read): the sums served until the next refresh. */
  async refresh(): Promise<void> {
    if (!this.shared) return;
    const puts = this.#puts;
    const read = await this.#store.processSnapshotsRead!();
    const now = this.#clock.now();
    const counts = new Map<string, QueueCounts>();
    add(counts, read.retired);
    const slots: Slots = new Map();
    const consumers: ConsumerInfo[] = [];
    const processes: ProcessStatus[] = [];
    let mine = false;
    for (const p of read.processes) {
      if (p.id === this.process.id) {
        mine = true;
        continue;
      }
      add(counts, p.counts);
      if (now - p.at > CLUSTER.liveMs) continue;
      const live = parseLive(p.live);
      const process: ProcessInfo = { id: p.id, host: p.host, pid: p.pid };
      processes.push({ ...process, lastSeenAt: p.at, leader: live.leading, consumers: live.consumers.length });
      for (const [queue, s] of Object.entries(live.slots)) {
        const sum = slots.get(queue) ?? { slots: 0, inFlight: 0 };
        slots.set(queue, { slots: sum.slots + (s.slots | 0), inFlight: sum.inFlight + (s.inFlight | 0) });
      }
      // An embedded process lists its own workers as 'in-process': named by process here, so ids stay unique.
      for (const c of live.consumers) {
        const tags = c.tags !== null && typeof c.tags === 'object' ? c.tags : {}; // a process of an older version publishes none
        consumers.push({ ...c, tags, id: c.id === 'in-process' ? `in-process@${p.id.slice(0, 8)}` : c.id, process });
      }
    }
    if (!mine && puts === this.#puts) this.#retired(); // no put overlapped the read: the row is really gone
    this.#others = { counts, slots, consumers, processes };
  }

  /** Every queue's cumulative counts in the cluster: every process's (this one's fresh) and the retired ones. */
  counts(): Map<string, QueueCounts> {
    const out = new Map([...this.#others.counts].map(([q, c]) => [q, { ...c }]));
    for (const [queue, c] of minus(this.#local.counts(), this.#base)) {
      const sum = out.get(queue);
      if (!sum) out.set(queue, c);
      else for (const f of FIELDS) sum[f] += c[f];
    }
    return out;
  }

  /** Worker slots per queue of the live processes. */
  slots(): Slots {
    const out: Slots = new Map([...this.#others.slots].map(([q, s]) => [q, { ...s }]));
    for (const [queue, s] of this.#local.slots()) {
      const sum = out.get(queue) ?? { slots: 0, inFlight: 0 };
      out.set(queue, { slots: sum.slots + s.slots, inFlight: sum.inFlight + s.inFlight });
    }
    return out;
  }

  /** The live processes, this one first (it is live: it is asking). */
  processes(): ProcessStatus[] {
    return [{ ...this.process, lastSeenAt: this.#clock.now(), leader: this.#local.leading(), consumers: this.#local.consumers().length }, ...this.#others.processes];
  }

  /** Consumers of the live processes, this one's first, each with the process it is connected to. */
  consumers(): ConsumerInfo[] {
    return [...this.#local.consumers().map((c) => ({ ...c, process: this.process })), ...this.#others.consumers];
  }
}

/** `counts` less `base`, per queue; a queue whose counts went below its base (forgotten, counted again from zero) is taken whole. */
function minus(counts: Map<string, QueueCounts>, base: Map<string, QueueCounts>): Map<string, QueueCounts> {
  if (base.size === 0) return counts;
  const out = new Map<string, QueueCounts>();
  for (const [queue, c] of counts) {
    const b = base.get(queue);
    if (!b || FIELDS.some((f) => c[f] < b[f])) out.set(queue, c);
    else out.set(queue, Object.fromEntries(FIELDS.map((f) => [f, c[f] - b[f]])) as unknown as QueueCounts);
  }
  return out;
}

function toRecord(counts: Map<string, QueueCounts>): CountsByQueue {
  return Object.fromEntries([...counts].map(([q, c]) => [q, { ...c }]));
}

/** Adds published counts (fields this version does not know are left out; missing ones count 0). */
function add(into: Map<string, QueueCounts>, from: CountsByQueue): void {
  for (const [queue, fields] of Object.entries(from)) {
    let sum = into.get(queue);
    if (!sum) into.set(queue, (sum = zero()));
    for (const f of FIELDS) {
      const n = fields[f];
      if (typeof n === 'number' && Number.isFinite(n)) sum[f] += n;
    }
  }
}

function parseLive(text: string): Live {
  try {
    const v = JSON.parse(text) as Partial<Live> | null;
    return {
      slots: v?.slots !== null && typeof v?.slots === 'object' ? v.slots : {},
      consumers: Array.isArray(v?.consumers) ? v.consumers : [],
      leading: v?.leading === true,
    };
  } catch {
    return { slots: {}, consumers: [], leading: false };
  }
}
