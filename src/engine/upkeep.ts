import type { Clock } from '../core/clock.ts';
import type { Store } from '../store/store.ts';
import { deleteFinished } from './duties.ts';
import { Maintenance } from './maintenance.ts';
import type { EngineSettings } from './options.ts';
import { defaultServices, ServiceRunner, type Service, type ServiceEffects } from './services.ts';

export interface UpkeepDeps {
  store: Store;
  clock: Clock;
  settings: EngineSettings;
  /** Whether ticks run on a timer (OpenOptions.maintenance); {@link Upkeep.runNow} works either way. */
  background: boolean;
  /** What the services' work does to this process once it committed. */
  effects: ServiceEffects;
  /** A service, or a whole tick, failed (an outage is reported once, not per failure). */
  probeFailed(err: unknown, during: string, startedAt?: number): void;
  onLeadership(led: boolean): void;
  /** This process's registration id in a shared store, or null. */
  leaderId(): string | null;
  /** Jobs became ready in `queue`. */
  wake(queue: string): void;
  /** A tick reached the store. */
  markHealthy(): void;
  /** A tick began (before it touches the store). */
  ticked?(): void;
  /** Services beyond the defaults (alerts), run after them. */
  services?: readonly Service[];
}

/**
 * The engine's background work: the services (services.ts) and the promotion of due jobs,
 * run by the maintenance tick (maintenance.ts) or on demand.
 */
export class Upkeep {
  readonly #d: UpkeepDeps;
  /** Background services (services.ts), run by each maintenance tick. */
  readonly #services: ServiceRunner;
  readonly #maintenance: Maintenance | null;

  constructor(deps: UpkeepDeps) {
    this.#d = deps;
    this.#services = new ServiceRunner(deps.store, [...defaultServices(deps.settings), ...(deps.services ?? [])], deps.effects, (err, service) => deps.probeFailed(err, service), deps.onLeadership);
    const duties = {
      tick: (tick: number) => this.#tick(tick),
      nextDueAt: () => deps.store.jobsNextDueAt(),
      promoteDue: () => this.#promoteDue(),
      onError: (err: unknown) => deps.probeFailed(err, 'maintenance'),
    };
    this.#maintenance = deps.background ? new Maintenance(deps.clock, duties, deps.settings.maintenanceIntervalMs) : null;
  }

  start(): void {
    this.#maintenance?.start();
  }

  /** A job was scheduled for `at`: the due timer fires then. */
  noteDue(at: number): void {
    this.#maintenance?.noteDue(at);
  }

  /** One tick now, never alongside a running one. */
  async runNow(): Promise<void> {
    // Tick 1: the services that run every tick (not retention; see Spool.cleanup()).
    await (this.#maintenance ? this.#maintenance.exclusive(() => this.#tick(1)) : this.#tick(1));
  }

  /** Deletes finished jobs past their retention now; returns how many. */
  cleanup(): Promise<number> {
    return deleteFinished(this.#d.store, this.#d.clock.now(), this.#d.settings.retention);
  }

  /** Stops the timers, waits for a running tick, then for the upkeep the services started. */
  async stop(): Promise<void> {
    await this.#maintenance?.stop();
    await this.#services.settled();
  }

  /**
   * One maintenance tick: the services due (leader duties on a shared store run in one
   * process at a time; their effects on this process are applied after they committed),
   * then promotion of due jobs, which every process does.
   */
  async #tick(tick: number): Promise<void> {
    const now = this.#d.clock.now();
    this.#d.ticked?.();
    try {
      await this.#services.tick({ leaderId: this.#d.leaderId(), leaseMs: this.#d.settings.leaderLeaseMs, now, tick });
      await this.#promoteDue();
      this.#d.markHealthy();
    } catch (err) {
      this.#d.probeFailed(err, 'maintenance', now);
    }
  }

  async #promoteDue(): Promise<void> {
    const queues = await this.#d.store.jobsPromoteDue({ now: this.#d.clock.now(), limit: 10_000 });
    for (const q of queues) this.#d.wake(q);
  }
}
