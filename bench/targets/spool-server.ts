import { Spool, type RemoteSpool } from '../../src/index.ts';
import { processMemory, startBrokerProcess, type BrokerProcess } from '../broker-process.ts';
import type { AttachSpec, BrokerMemory, TargetContext } from '../target.ts';
import { SpoolTarget } from './spool-base.ts';

/** Idle sessions opened at once by {@link SpoolServerTarget.idleConnections}: the broker sees bursts of this many upgrades. */
const CONNECT_BURST = 50;

/**
 * Spool as a server: a broker process (`spool serve`) on the SQLite store in a
 * fresh data directory, every setting at its default (durability included:
 * `fsync on commit`, as spool-embedded), and this process as its client over the
 * WebSocket protocol on loopback (`Spool.connect`). The producer and the worker
 * of a run are separate processes from the broker; W4 puts its worker in a
 * third, and W3-2w, W7 and C1000 attach further client processes to the same
 * broker. Memory (W6, C1000) is the broker process's, read from /proc.
 * @example
 * const target = new SpoolServerTarget({ dataDir: '/tmp/spool-bench-x' });
 * await target.setup(); // starts the broker, connects
 */
export class SpoolServerTarget extends SpoolTarget<RemoteSpool> {
  readonly id: string = 'spool-server';
  readonly latencyAcrossProcesses = true;
  readonly #context: TargetContext;
  /** The broker this process started, or null when attached to another process's broker. */
  #broker: BrokerProcess | null = null;
  #wsUrl: string | null;
  #brokerPid: number | null;
  #durability: string | null;

  constructor(context: TargetContext) {
    super();
    this.#context = context;
    const attach = context.attach;
    this.#wsUrl = attach?.wsUrl ?? null;
    this.#brokerPid = attach?.brokerPid ? Number(attach.brokerPid) : null;
    this.#durability = attach?.durability ?? null;
  }

  override async setup(): Promise<void> {
    if (this.#wsUrl === null) {
      this.#broker = await startBrokerProcess({ ...this.brokerStore(this.#context), cpuProf: this.#context.brokerCpuProf, metrics: this.brokerMetrics });
      this.#wsUrl = this.#broker.wsUrl;
      this.#brokerPid = this.#broker.pid;
      this.#durability = await this.describeDurability(this.#broker.durability);
    }
    await super.setup();
  }

  /** Whether the broker serves `/metrics`, as `spool serve` does; a variant turns it off to measure what it costs. */
  protected readonly brokerMetrics: boolean = true;

  /** Where the broker keeps its jobs: a fresh SQLite data directory here. */
  protected brokerStore(context: TargetContext): { dataDir: string; schema?: string } {
    return { dataDir: context.dataDir };
  }

  /** The durability printed beside every figure: what the broker says, unless a subclass knows more. */
  protected async describeDurability(broker: string): Promise<string> {
    return broker;
  }

  protected openSpool(): Promise<RemoteSpool> {
    // Only the URL is given: every client setting is Spool's default.
    return Spool.connect(this.#url());
  }

  durability(): string {
    if (this.#durability === null) throw new Error('spool-server target used before setup()');
    return this.#durability;
  }

  async brokerMemory(): Promise<BrokerMemory> {
    if (this.#brokerPid === null) throw new Error('spool-server target used before setup()');
    return processMemory(this.#brokerPid);
  }

  attachSpec(): AttachSpec {
    if (this.#brokerPid === null) throw new Error('spool-server target used before setup()');
    return { wsUrl: this.#url(), brokerPid: String(this.#brokerPid), durability: this.durability() };
  }

  async idleConnections(count: number): Promise<() => Promise<void>> {
    const url = this.#url();
    const open: RemoteSpool[] = [];
    const closeAll = async (): Promise<void> => void (await Promise.all(open.map((s) => s.close())));
    try {
      while (open.length < count) {
        const burst = Math.min(CONNECT_BURST, count - open.length);
        // Each resolves once the broker's welcome arrived: a full protocol session, then left idle.
        const settled = await Promise.allSettled(Array.from({ length: burst }, () => Spool.connect(url)));
        for (const s of settled) if (s.status === 'fulfilled') open.push(s.value);
        const refused = settled.find((s) => s.status === 'rejected');
        if (refused) throw refused.reason;
      }
    } catch (err) {
      await closeAll();
      throw err;
    }
    return closeAll;
  }

  override async teardown(): Promise<void> {
    try {
      await super.teardown();
    } finally {
      await this.#broker?.stop();
      this.#broker = null;
    }
  }

  #url(): string {
    if (this.#wsUrl === null) throw new Error('spool-server target used before setup()');
    return this.#wsUrl;
  }
}
