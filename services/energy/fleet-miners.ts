import type { ApiInfra, Caller } from '../context.ts';
import { forEachLimit } from '../control/concurrency.ts';
import { MinerStateReader } from '../control/miner-state.ts';
import type { MinerResolver, MinerSelector, TargetMiner } from '../control/selector.ts';
import { currentHashrateGhs } from '../query/miner-figures.ts';
import type { EnergyMiner, MinerPowerState } from './energy-miner.ts';
import { methodFor, selectorMatches, type CurtailmentPolicy } from './policy.ts';

/**
 * The tenant's miners as the planner sees them, from the resolved inventory and the latest
 * snapshots (power, hashrate, J/TH, hottest chip, model, labels, site). Power target limits come
 * from the miners' constraints (cached by the control service) and are read only for miners the
 * policy would curtail by power target. A miner without a fresh sample plans as drawing nothing.
 * Only the miners of the policy's site and labels are read (the planner selects by them anyway):
 * reading every snapshot of a 10,000-miner tenant from Redis cost a one-site plan ~300 ms.
 */
export async function fleetMiners(
  infra: ApiInfra,
  resolver: MinerResolver,
  caller: Caller,
  policy: Pick<CurtailmentPolicy, 'selector' | 'method'>,
): Promise<{ miners: EnergyMiner[]; targets: Map<string, TargetMiner> }> {
  const { site, labels } = policy.selector;
  const narrowed: MinerSelector = { ...(site !== undefined ? { site } : {}), ...(labels && Object.keys(labels).length > 0 ? { labels } : {}) };
  const sel = await resolver.resolve(caller, Object.keys(narrowed).length > 0 ? narrowed : { all: true });
  const miners = sel.miners.map(toEnergyMiner);
  const needLimits = miners.filter(m => selectorMatches(policy.selector, m) && methodFor(policy, m.model) === 'power_target' && m.state === 'running');
  if (needLimits.length > 0) {
    const reader = new MinerStateReader(infra);
    const byId = new Map(sel.miners.map(m => [m.id, m]));
    await forEachLimit(needLimits, infra.config.JOBS_CONCURRENCY, async m => {
      const t = byId.get(m.id)!;
      try {
        const client = infra.minerPool.get({ id: t.id, host: t.host, port: t.port, credentials: t.credentials });
        const c = await reader.constraints(t.id, client);
        m.power_target_min_w = c.power_target_w?.min ?? null;
        m.power_target_max_w = c.power_target_w?.max ?? null;
      } catch (err) {
        // Left without limits: the planner skips it as no_power_limits and says so.
        infra.log.debug({ miner: m.id, err: (err as Error).message }, 'energy: power target limits not read');
      }
    });
  }
  return { miners, targets: new Map(sel.miners.map(m => [m.id, m])) };
}

function stateOf(t: TargetMiner): MinerPowerState {
  const s = t.snapshot?.sample?.miner_status;
  if (s === 'paused') return 'paused';
  if (s === 'not_started') return 'stopped';
  return 'running';
}

export function toEnergyMiner(t: TargetMiner): EnergyMiner {
  const s = t.snapshot?.status === 'offline' ? null : (t.snapshot?.sample ?? null);
  const state = s ? stateOf(t) : 'running';
  return {
    id: t.id,
    tenant: t.tenant,
    site: t.site,
    model: t.model,
    labels: t.labels,
    power_w: s?.power_w ?? 0,
    hashrate_ghs: s ? currentHashrateGhs(s) : 0,
    efficiency_jth: s?.efficiency_jth && s.efficiency_jth > 0 ? s.efficiency_jth : null,
    temp_chip_max_c: s?.temp_chip_max_c ?? null,
    power_target_min_w: null,
    power_target_max_w: null,
    state,
    state_since_ms: null,
  };
}
