import { Counter, Gauge, type Registry } from 'prom-client';

/**
 * Energy-aware operation's Prometheus series, on the API's registry. Every replica evaluates
 * every policy, so gauges read the same on each; alert on max() across replicas. The `policy`
 * label is `tenant/id` (bounded by the policies configured).
 */
export interface EnergyMetrics {
  /** age of the newest prices of the policy's source, seconds (absent for tariff and none) */
  priceAge: Gauge<'policy'>;
  /** 1 while the policy's prices are stale or missing and its fallback decides */
  priceStale: Gauge<'policy'>;
  priceFetches: Counter<'result'>;
  /** plan steps (or whole windows) due more than the grace time ago that no replica has run */
  stepsOverdue: Gauge<'policy'>;
  /** miners a curtailment changed whose restore has failed and is being retried */
  restorePending: Gauge<'policy'>;
  stepsRun: Counter<'kind'>;
  executionsOpen: Gauge;
}

export function createEnergyMetrics(registry: Registry): EnergyMetrics {
  const registers = [registry];
  return {
    priceAge: new Gauge({ name: 'bosfleet_energy_price_age_seconds', help: 'Age of the newest prices of a curtailment policy\'s HTTP feed or day-ahead upload, seconds.', labelNames: ['policy'], registers }),
    priceStale: new Gauge({ name: 'bosfleet_energy_price_stale', help: '1 while a curtailment policy\'s prices are stale or missing and its configured fallback decides.', labelNames: ['policy'], registers }),
    priceFetches: new Counter({ name: 'bosfleet_energy_price_fetches_total', help: 'HTTP price feed fetches by result (ok, error).', labelNames: ['result'], registers }),
    stepsOverdue: new Gauge({ name: 'bosfleet_energy_plan_steps_overdue', help: 'Curtailment plan steps (or windows) due longer than the grace time ago that have not been executed.', labelNames: ['policy'], registers }),
    restorePending: new Gauge({ name: 'bosfleet_energy_restore_pending_miners', help: 'Miners changed by a curtailment whose restore failed and is being retried.', labelNames: ['policy'], registers }),
    stepsRun: new Counter({ name: 'bosfleet_energy_steps_run_total', help: 'Curtailment steps this replica ran, by kind (curtail, restore, retry, sweep).', labelNames: ['kind'], registers }),
    executionsOpen: new Gauge({ name: 'bosfleet_energy_executions_open', help: 'Curtailment executions not yet finished (miners not all restored).', registers }),
  };
}
