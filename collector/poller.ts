import { FleetError, minerFailureReason, type MinerFailureCode } from '../core/errors.ts';
import type { InventoryMiner } from './inventory/schema.ts';
import type { MinerClient } from './miner-client.ts';
import { readMinerErrors } from './miner-errors.ts';
import { deriveHealth, detailsInfo, hotTemperatureC, normalizePoll, type NormalizeResult } from './normalize.ts';
import type { HealthStatus, MinerDetailsInfo, MinerRef, MinerSample } from '../core/samples.ts';

/**
 * What the collector knows about one miner between polls. Lives on the scheduler instance
 * (never module state) so two collectors can run side by side in one process.
 */
export class MinerTracker {
  inv: InventoryMiner;
  ref: MinerRef;
  details: MinerDetailsInfo | null = null;
  uptimeAtDetailsS: number | null = null;
  systemUptimeAtDetailsS: number | null = null;
  /** `minerStatus` when details were last read: a change since makes the uptimes stale */
  statusAtDetails: string | null = null;
  hotTempC: number | null = null;
  /** Raw API MinerStatus, from details or the status stream. */
  minerStatus = 'MINER_STATUS_UNSPECIFIED';
  needDetails = true;
  failures = 0;
  status: HealthStatus = 'online';
  lastSample: MinerSample | null = null;
  lastSeenMs: number | null = null;
  lastPollMs = 0;
  lastError: MinerFailureCode | null = null;
  /** No RPC before this time (backoff of an offline miner). */
  probeAfterMs = 0;
  inFlight = false;
  stream: AbortController | null = null;
  lastIssues = '';

  constructor(inv: InventoryMiner) {
    this.inv = inv;
    this.ref = refOf(inv);
  }

  update(inv: InventoryMiner): void {
    this.inv = inv;
    this.ref = refOf(inv);
  }
}

export function refOf(inv: InventoryMiner): MinerRef {
  return { id: inv.id, tenant: inv.tenant, site: inv.site, address: `${inv.host}:${inv.port}`, credentials: inv.credentials, labels: inv.labels };
}

export interface PollSettings {
  detailsIntervalMs: number;
  fallbackHotTempC: number;
  lowHashratePct: number;
  /** fetch details on every poll when no status stream tells us about pauses */
  streamActive: boolean;
}

export type PollOutcome =
  | { ok: true; result: NormalizeResult; detailsRefreshed: boolean; durationMs: number }
  | { ok: false; reason: MinerFailureCode; error: FleetError; rpc: string; durationMs: number };

function rpcOf(err: unknown): string {
  return err instanceof FleetError && typeof err.details?.rpc === 'string' ? err.details.rpc : 'unknown';
}

/** One poll: the telemetry RPCs run together; details and configuration when due. */
export async function pollMiner(t: MinerTracker, client: MinerClient, settings: PollSettings, nowMs: () => number = Date.now): Promise<PollOutcome> {
  const started = nowMs();
  try {
    if (!client.knownApiVersion) await client.probe();
    // A status change (stop, start, restart) since the last details read makes its uptimes stale.
    const wantDetails = t.needDetails || t.statusAtDetails !== t.minerStatus || !settings.streamActive || !t.details || started - t.details.fetched_ms >= settings.detailsIntervalMs;
    const detailsP = wantDetails ? Promise.all([client.unary('MinerService', 'GetMinerDetails', {}), client.unary('ConfigurationService', 'GetMinerConfiguration', {}), readMinerErrors(client)]) : null;
    const [stats, hashboards, cooling, tuner, pools, det] = await Promise.all([
      client.unary('MinerService', 'GetMinerStats', {}),
      client.unary('MinerService', 'GetHashboards', {}),
      client.unary('CoolingService', 'GetCoolingState', {}),
      client.unary('PerformanceService', 'GetTunerState', {}),
      client.unary('PoolService', 'GetPoolGroups', {}),
      detailsP,
    ]);
    const timeMs = nowMs();
    if (det) {
      const [details, config, errors] = det;
      const v = client.knownApiVersion;
      t.details = { ...detailsInfo(details, v ? `${v.major}.${v.minor}.${v.patch}` : null, timeMs), errors };
      // bosminer's own uptime only: the system's is a different clock (a stopped bosminer has none)
      t.uptimeAtDetailsS = details.bosminer_uptime_s ?? 0;
      t.systemUptimeAtDetailsS = details.system_uptime_s ?? null;
      t.hotTempC = hotTemperatureC(config);
      if (typeof details.status === 'string' && (!settings.streamActive || t.needDetails)) t.minerStatus = details.status;
      t.statusAtDetails = t.minerStatus;
      t.needDetails = false;
    }
    const result = normalizePoll(
      { stats, hashboards, cooling, tuner, pools },
      {
        ref: t.ref,
        timeMs,
        details: t.details,
        hotTempC: t.hotTempC,
        fallbackHotTempC: settings.fallbackHotTempC,
        lowHashratePct: settings.lowHashratePct,
        uptimeAtDetailsS: t.uptimeAtDetailsS,
        systemUptimeAtDetailsS: t.systemUptimeAtDetailsS,
        minerStatus: t.minerStatus,
        previous: t.lastSample,
      },
    );
    // Errors the miner reports make it degraded, with their own reason.
    if (t.details?.errors?.length && !result.sample.degraded_reasons.includes('miner_errors')) {
      result.sample.degraded_reasons.push('miner_errors');
      result.sample.status = deriveHealth(result.sample.miner_status, result.sample.degraded_reasons);
    }
    // Counters going backwards means bosminer restarted: refresh details (uptime, firmware, errors) next time.
    if (t.lastSample && result.sample.shares_accepted < t.lastSample.shares_accepted) t.needDetails = true;
    return { ok: true, result, detailsRefreshed: det !== null, durationMs: nowMs() - started };
  } catch (err) {
    const error = err instanceof FleetError ? err : new FleetError('miner_error', `poll of miner ${t.ref.id} failed`, { cause: err });
    return { ok: false, reason: minerFailureReason(error), error, rpc: rpcOf(error), durationMs: nowMs() - started };
  }
}
