import type { MinerClient } from '../../collector/miner-client.ts';
import type { ApiInfra } from '../context.ts';
import type { GetConstraintsResponse, GetMinerConfigurationResponse } from '../../proto/types.ts';

/** A numeric range a miner accepts; `default` is the firmware default when reported. */
export interface Range {
  min: number;
  max: number;
  default: number | null;
}

/**
 * A miner's own limits (ConfigurationService.GetConstraints), normalised to our units:
 * watts, TH/s (targets), °C, ratios 0..1, fan speed percent. A range the miner does not report
 * (absent, or max 0) is left out and not enforced.
 */
export interface MinerConstraints {
  power_target_w?: Range;
  hashrate_target_ths?: Range;
  cooling: {
    target_c?: Range;
    hot_c?: Range;
    dangerous_c?: Range;
    fan_speed_ratio?: Range;
    min_fan_speed_pct?: Range;
    max_fan_speed_pct?: Range;
    minimum_required_fans?: Range;
  };
  hashboard_ids: string[];
  fetched_ms: number;
}

function range(min: number | undefined, max: number | undefined, def: number | undefined): Range | undefined {
  if (min === undefined || max === undefined || !(max > 0) || max < min) return undefined;
  return { min, max, default: def !== undefined && def > 0 ? def : null };
}

function set<K extends string>(obj: Partial<Record<K, Range>>, key: K, r: Range | undefined): void {
  if (r) obj[key] = r;
}

export function normaliseConstraints(c: GetConstraintsResponse): MinerConstraints {
  const out: MinerConstraints = { cooling: {}, hashboard_ids: [], fetched_ms: Date.now() };
  const t = c.tuner_constraints;
  set(
    out,
    'power_target_w',
    range(t?.power_target?.min?.watt, t?.power_target?.max?.watt, t?.power_target?.default?.watt),
  );
  set(
    out,
    'hashrate_target_ths',
    range(
      t?.hashrate_target?.min?.terahash_per_second,
      t?.hashrate_target?.max?.terahash_per_second,
      t?.hashrate_target?.default?.terahash_per_second,
    ),
  );
  const k = c.cooling_constraints;
  if (k) {
    set(
      out.cooling,
      'target_c',
      range(
        k.target_temperature?.min?.degree_c,
        k.target_temperature?.max?.degree_c,
        k.target_temperature?.default?.degree_c,
      ),
    );
    set(
      out.cooling,
      'hot_c',
      range(
        k.hot_temperature?.min?.degree_c,
        k.hot_temperature?.max?.degree_c,
        k.hot_temperature?.default?.degree_c,
      ),
    );
    set(
      out.cooling,
      'dangerous_c',
      range(
        k.dangerous_temperature?.min?.degree_c,
        k.dangerous_temperature?.max?.degree_c,
        k.dangerous_temperature?.default?.degree_c,
      ),
    );
    set(
      out.cooling,
      'fan_speed_ratio',
      range(k.fan_speed_ratio?.min, k.fan_speed_ratio?.max, k.fan_speed_ratio?.default),
    );
    set(
      out.cooling,
      'min_fan_speed_pct',
      range(k.min_fan_speed?.min, k.min_fan_speed?.max, k.min_fan_speed?.default),
    );
    set(
      out.cooling,
      'max_fan_speed_pct',
      range(k.max_fan_speed?.min, k.max_fan_speed?.max, k.max_fan_speed?.default),
    );
    set(
      out.cooling,
      'minimum_required_fans',
      range(k.minimum_required_fans?.min, k.minimum_required_fans?.max, k.minimum_required_fans?.default),
    );
  }
  out.hashboard_ids = [...(c.hashboards_constraints?.hashboard_ids ?? [])];
  return out;
}

/** The parts of GetMinerConfiguration the control service compares against. */
export interface MinerConfigView {
  tuner_mode: 'power' | 'hashrate' | null;
  power_target_w: number | null;
  hashrate_target_ths: number | null;
  cooling_mode: 'auto' | 'manual' | 'immersion' | 'hydro' | 'disabled' | null;
  cooling: Record<string, number | null>;
  pool_groups: {
    uid: string | null;
    name: string;
    pools: { url: string; user: string; enabled: boolean }[];
  }[];
  hashboards: { id: string; enabled: boolean }[];
}

export function viewConfig(c: GetMinerConfigurationResponse): MinerConfigView {
  const tuner = c.tuner;
  const temp = c.temperature;
  const modeName = temp?.mode ?? null;
  const mode = modeName ? (temp?.[modeName] as Record<string, unknown> | null | undefined) : null;
  const cooling: Record<string, number | null> = {};
  if (mode) {
    for (const [k, v] of Object.entries(mode)) {
      if (k.startsWith('_')) continue;
      if (typeof v === 'number') cooling[k] = v;
      else if (v && typeof v === 'object' && 'degree_c' in v)
        cooling[k] = (v as { degree_c: number }).degree_c;
    }
  }
  return {
    tuner_mode:
      tuner?.tuner_mode === 'TUNER_MODE_POWER_TARGET'
        ? 'power'
        : tuner?.tuner_mode === 'TUNER_MODE_HASHRATE_TARGET'
          ? 'hashrate'
          : null,
    power_target_w: tuner?.power_target?.watt ?? null,
    hashrate_target_ths: tuner?.hashrate_target?.terahash_per_second ?? null,
    cooling_mode: modeName,
    cooling,
    pool_groups: (c.pool_groups ?? []).map(g => ({
      uid: g.uid ?? null,
      name: g.name,
      // Passwords are never read into the view.
      pools: g.pools.map(p => ({ url: p.url, user: p.user, enabled: p.enabled ?? true })),
    })),
    hashboards: (c.hashboard_config?.hashboards ?? []).map(h => ({ id: h.id, enabled: h.enabled ?? true })),
  };
}

/**
 * Reads a miner's constraints (cached in Redis per miner for `ttlMs`, shared by replicas and
 * workers) and its configuration (always live: it is what a change is compared against).
 */
/** Where a miner's constraints are cached (Redis key `<prefix>:constraints:<miner>` on the farm backend). */
export function constraintsCacheKey(minerId: string): readonly string[] {
  return ['constraints', minerId];
}

export class MinerStateReader {
  private readonly infra: ApiInfra;
  private readonly ttlMs: number;

  constructor(infra: ApiInfra, ttlMs = 5 * 60_000) {
    this.infra = infra;
    this.ttlMs = ttlMs;
  }

  async constraints(minerId: string, client: MinerClient, signal?: AbortSignal): Promise<MinerConstraints> {
    const key = constraintsCacheKey(minerId);
    const cached = await this.infra.store.cache.get(key).catch(() => null);
    if (cached) return JSON.parse(cached) as MinerConstraints;
    const raw = await client.unary('ConfigurationService', 'GetConstraints', {}, { signal });
    const c = normaliseConstraints(raw);
    await this.infra.store.cache.set(key, JSON.stringify(c), this.ttlMs).catch(() => undefined);
    return c;
  }

  async config(client: MinerClient, signal?: AbortSignal): Promise<MinerConfigView> {
    return viewConfig(await client.unary('ConfigurationService', 'GetMinerConfiguration', {}, { signal }));
  }

  /** Forget cached constraints (after a firmware change). */
  async forget(minerId: string): Promise<void> {
    await this.infra.store.cache.del(constraintsCacheKey(minerId)).catch(() => undefined);
  }
}
