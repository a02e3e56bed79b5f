import { z } from 'zod';
import { FleetError } from '../../core/errors.ts';
import { minerIdSchema, scopeNameSchema, type InventoryMiner } from '../../collector/inventory/schema.ts';
import { HEALTH_STATUSES, type HealthStatus, type MinerSnapshot } from '../../core/samples.ts';
import type { ApiInfra, Caller } from '../context.ts';
import { findMinerRow, matchModels, unknownMinerError, type MinerRefColumns } from '../query/miner-ref.ts';

/**
 * Which miners a control request, schedule or rollout targets. Criteria are ANDed; `ids` not in
 * the caller's tenant are reported one by one as not found (another tenant's miner looks exactly
 * like a miner that does not exist). An empty selector is refused: matching the whole fleet
 * must be asked for with `all: true`.
 */
export const minerSelectorSchema = z
  .strictObject({
    ids: z.array(minerIdSchema).min(1).max(50_000).optional(),
    site: scopeNameSchema.optional(),
    model: z.string().min(1).max(128).optional(),
    labels: z.record(z.string().min(1).max(64), z.string().max(256)).optional(),
    status: z.enum(HEALTH_STATUSES).optional(),
    /** Every miner of the tenant (required to target the whole fleet without other criteria). */
    all: z.literal(true).optional(),
  })
  .refine(
    s =>
      s.all === true ||
      s.ids !== undefined ||
      s.site !== undefined ||
      s.model !== undefined ||
      s.status !== undefined ||
      (s.labels !== undefined && Object.keys(s.labels).length > 0),
    {
      error:
        'an empty selector would match every miner; give ids, site, model, labels or status, or all: true for the whole fleet',
    },
  );

export type MinerSelector = z.output<typeof minerSelectorSchema>;

/** A miner a request can reach: where it is (resolved inventory) and what it last looked like (snapshot). */
export interface TargetMiner {
  id: string;
  tenant: string;
  site: string;
  host: string;
  port: number;
  /** name of the credential entry (never the secret) */
  credentials: string;
  labels: Record<string, string>;
  model: string | null;
  status: HealthStatus | null;
  snapshot: MinerSnapshot | null;
}

export interface Selection {
  miners: TargetMiner[];
  /** requested ids that are not miners of the caller's tenant */
  not_found: string[];
  /** how many miners matched */
  matched: number;
}

const modelOf = (s: MinerSnapshot | null): string | null => s?.sample?.model || s?.details?.model || null;

function toTarget(inv: InventoryMiner, snap: MinerSnapshot | null): TargetMiner {
  return {
    id: inv.id,
    tenant: inv.tenant,
    site: inv.site,
    host: inv.host,
    port: inv.port,
    credentials: inv.credentials,
    labels: inv.labels ?? {},
    model: modelOf(snap),
    status: snap?.status ?? null,
    snapshot: snap,
  };
}

async function redisCall<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof FleetError) throw err;
    throw new FleetError('unavailable', 'Redis is not available', { cause: err });
  }
}

/** Resolves selectors against the collector's resolved inventory and the snapshots. */
export class MinerResolver {
  private readonly infra: ApiInfra;

  constructor(infra: ApiInfra) {
    this.infra = infra;
  }

  /** The caller's miners matching `selector`, sorted by id, with per-id not-found reports. */
  async resolve(caller: Caller, selector: MinerSelector): Promise<Selection> {
    const store = this.infra.store.inventory;
    let inventory: InventoryMiner[];
    const notFound: string[] = [];
    if (selector.ids) {
      const ids = [...new Set(selector.ids)];
      const found = await redisCall(() => store.getResolved(ids));
      inventory = [];
      const unmatched: string[] = [];
      ids.forEach((id, i) => {
        const inv = found[i];
        if (inv && inv.tenant === caller.tenant) inventory.push(inv);
        else unmatched.push(id);
      });
      // not an exact id: a hostname, an address or an id in another case (miner-ref.ts)
      if (unmatched.length > 0) {
        const refs = await this.refColumns(caller.tenant);
        const have = new Set(inventory.map(m => m.id));
        for (const ref of unmatched) {
          const row = findMinerRow(refs.columns, 'ids', ref);
          if (row < 0) {
            notFound.push(ref);
            continue;
          }
          const inv = refs.inventory[row]!;
          if (!have.has(inv.id)) inventory.push(inv);
          have.add(inv.id);
        }
      }
    } else {
      const all = await redisCall(() => store.readResolved());
      inventory = all.filter(inv => inv.tenant === caller.tenant);
    }
    if (selector.site !== undefined) inventory = inventory.filter(m => m.site === selector.site);
    if (selector.labels) {
      const want = Object.entries(selector.labels);
      inventory = inventory.filter(m => want.every(([k, v]) => m.labels?.[k] === v));
    }
    const snaps = await this.infra.store.state.snapshots(inventory.map(m => m.id));
    let miners = inventory.map((m, i) => toTarget(m, snaps[i] ?? null));
    if (selector.model !== undefined) {
      // the full name or its key (s21), any case, as on the read side
      const models = miners.map(m => m.model);
      const names = new Set(matchModels({ size: miners.length, id: [], hostname: [], address: [], model: models }, selector.model));
      miners = miners.filter(m => m.model !== null && names.has(m.model));
    }
    if (selector.status !== undefined) miners = miners.filter(m => m.status === selector.status);
    miners.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    return { miners, not_found: notFound.sort(), matched: miners.length };
  }

  /** One miner of the caller's tenant by id, hostname or address, or FleetError not_found with close matches. */
  async one(caller: Caller, id: string): Promise<TargetMiner> {
    const sel = await this.resolve(caller, { ids: [id] });
    const m = sel.miners[0];
    if (!m) throw unknownMinerError((await this.refColumns(caller.tenant)).columns, id, 'GET /api/v1/miners lists your miners');
    return m;
  }

  /** The tenant's inventory as miner-ref columns (hostnames from snapshots); read only when an id is not exact. */
  private async refColumns(tenant: string): Promise<{ columns: MinerRefColumns; inventory: InventoryMiner[] }> {
    const all = await redisCall(() => this.infra.store.inventory.readResolved());
    const inventory = all.filter(inv => inv.tenant === tenant);
    inventory.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    const snaps = await this.infra.store.state.snapshots(inventory.map(m => m.id));
    const columns: MinerRefColumns = {
      size: inventory.length,
      id: inventory.map(m => m.id),
      hostname: snaps.map(s => s?.sample?.hostname || s?.details?.hostname || null),
      address: inventory.map(m => (m.host.includes(':') ? `[${m.host}]:${m.port}` : `${m.host}:${m.port}`)),
      model: snaps.map(s => modelOf(s ?? null)),
    };
    return { columns, inventory };
  }

  /** Current location of miners by id (for jobs re-reading addresses when they run); other tenants' ids are absent. */
  async locate(
    tenant: string,
    ids: readonly string[],
    withSnapshots = false,
  ): Promise<Map<string, TargetMiner>> {
    const out = new Map<string, TargetMiner>();
    for (let i = 0; i < ids.length; i += 1_000) {
      const chunk = ids.slice(i, i + 1_000);
      const raws = await redisCall(() => this.infra.store.inventory.getResolved(chunk));
      const found = raws.filter(inv => inv !== null && inv.tenant === tenant) as InventoryMiner[];
      const snaps = withSnapshots ? await this.infra.store.state.snapshots(found.map(m => m.id)) : [];
      found.forEach((inv, j) => out.set(inv.id, toTarget(inv, snaps[j] ?? null)));
    }
    return out;
  }
}
