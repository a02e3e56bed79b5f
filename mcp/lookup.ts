/**
 * Small lookups the MCP layer needs beside the query and control services: hostnames next to
 * miner ids, "did you mean" suggestions for an unknown id (the matcher of services/query/miner-ref.ts
 * over the tenant's ids, plus a free-text match on hostname and address), and id
 * completion for resource templates and prompts. All tenant-scoped; nothing here talks to a miner.
 */
import type { ApiInfra, Caller } from '../services/context.ts';
import type { FleetQuery } from '../services/query/fleet-query.ts';

// One matcher for every surface: the REST resolver (services/query/miner-ref.ts) and these suggestions.
export { closeMatches, editDistance } from '../services/query/miner-ref.ts';

export class MinerLookup {
  private readonly infra: ApiInfra;
  private readonly fleetQuery: FleetQuery;

  constructor(infra: ApiInfra, fleetQuery: FleetQuery) {
    this.infra = infra;
    this.fleetQuery = fleetQuery;
  }

  /** Ids of the caller's miners (those the collector has a snapshot of). */
  async tenantIds(caller: Caller): Promise<string[]> {
    return await this.infra.store.state.minersOf({ tenant: caller.tenant });
  }

  /** Hostname per miner id (null when unknown); ids of other tenants come back null. */
  async hostnames(caller: Caller, ids: readonly string[]): Promise<Map<string, string | null>> {
    const unique = [...new Set(ids.filter(Boolean))];
    const out = new Map<string, string | null>();
    if (unique.length === 0) return out;
    const snaps = await this.infra.store.state.snapshots(unique).catch(() => unique.map(() => null));
    unique.forEach((id, i) => {
      const s = snaps[i];
      out.set(
        id,
        s && s.ref.tenant === caller.tenant ? s.sample?.hostname || s.details?.hostname || null : null,
      );
    });
    return out;
  }

  /**
   * Miners `query` may have meant: ids, hostnames or addresses containing it (the query
   * service's free-text search), then ids and hostnames close to it by edit distance. At most k, with the
   * hostname when known.
   */
  async suggest(caller: Caller, query: string, k = 3): Promise<{ id: string; hostname: string | null }[]> {
    const out = new Map<string, string | null>();
    try {
      const hits = await this.fleetQuery.listMiners(caller, { q: query.slice(0, 128), limit: k });
      for (const m of hits.items) out.set(m.id, m.hostname);
    } catch {
      // suggestions are best effort
    }
    if (out.size < k) {
      // ids and hostnames close to the query, by the matcher REST uses (services/query/miner-ref.ts)
      const close = await this.fleetQuery.suggestMiners(caller, query, k).catch(() => []);
      for (const c of close) if (out.size < k && !out.has(c.id)) out.set(c.id, c.hostname);
    }
    return [...out].map(([id, hostname]) => ({ id, hostname }));
  }

  /** Ids for completion: those starting with `prefix` first, then those containing it; at most k. */
  async complete(caller: Caller, prefix: string, k = 20): Promise<string[]> {
    const ids = (await this.tenantIds(caller).catch(() => [] as string[])).sort();
    const p = prefix.toLowerCase();
    const starts = ids.filter(id => id.toLowerCase().startsWith(p));
    if (starts.length >= k || p === '') return starts.slice(0, k);
    const contains = ids.filter(id => !id.toLowerCase().startsWith(p) && id.toLowerCase().includes(p));
    return [...starts, ...contains].slice(0, k);
  }
}
