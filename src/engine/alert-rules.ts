import { AlertNotFoundError, InvalidArgumentError } from '../core/errors.ts';
import type { Clock } from '../core/clock.ts';
import { checkLimit } from '../core/limits.ts';
import { checkOptionKeys } from '../core/options.ts';
import { checkAlertId, checkAlertRule, type AlertEvent, type AlertRule } from '../alerts/rules.ts';
import type { Store } from '../store/store.ts';
import type { StoredAlertRule } from '../store/alert-store.ts';
import type { EngineSettings } from './options.ts';
import type { AlertEventsOptions } from '../api/contract.ts';


const toRule = ({ secret: _secret, ...rule }: StoredAlertRule): AlertRule => rule;

/** Alert rules and their events, as the engine offers them (the evaluation is a service: src/alerts/services.ts). */
export class AlertRules {
  readonly #store: Store;
  readonly #clock: Clock;
  readonly #settings: EngineSettings['alerts'];

  constructor(store: Store, clock: Clock, settings: EngineSettings['alerts']) {
    this.#store = store;
    this.#clock = clock;
    this.#settings = settings;
  }

  async set(input: unknown): Promise<AlertRule> {
    const rule = checkAlertRule(input);
    const outcome = await this.#store.alertRulePut(rule, this.#clock.now(), this.#settings.rulesMax);
    if (outcome === 'full') {
      throw new InvalidArgumentError('id', `the store already holds ${this.#settings.rulesMax} alert rules (alertRulesMax): delete one, or raise the setting`);
    }
    return this.get(rule.id);
  }

  async get(id: string): Promise<AlertRule> {
    checkAlertId(id);
    const rule = (await this.#store.alertRules()).find((r) => r.id === id);
    if (!rule) throw new AlertNotFoundError(id);
    return toRule(rule);
  }

  async list(): Promise<AlertRule[]> {
    return (await this.#store.alertRules()).map(toRule);
  }

  async delete(id: string): Promise<void> {
    checkAlertId(id);
    if (!(await this.#store.alertRuleDelete(id, this.#clock.now()))) throw new AlertNotFoundError(id);
  }

  async events(options: AlertEventsOptions = {}): Promise<AlertEvent[]> {
    checkOptionKeys(options, ['ruleId', 'before', 'limit'], 'alertEvents');
    if (options.ruleId !== undefined) checkAlertId(options.ruleId, 'ruleId');
    if (options.before !== undefined && (!Number.isSafeInteger(options.before) || options.before < 1)) {
      throw new InvalidArgumentError('before', 'before must be an event id (a positive integer)');
    }
    const limit = checkLimit('listLimit', options.limit, 'limit');
    return this.#store.alertEvents({ before: options.before, limit, ruleId: options.ruleId });
  }
}
