/**
 * MCP resources: documents a client can attach to a conversation. All JSON, tenant-scoped,
 * bounded, and never carrying secrets (the inventory shows credential names to admins only).
 *
 *   bosfleet://fleet/summary             the fleet overview (totals, sites, models)
 *   bosfleet://miners/{id}               one miner, detailed (id completion)
 *   bosfleet://miners/{id}/telemetry     its last hour at 1-minute steps (id completion)
 *   bosfleet://jobs/{id}                 one job with per-miner results and latest steps
 *   bosfleet://inventory                 the tenant's inventory (addresses, sites, labels)
 */
import {
  ProtocolError,
  ProtocolErrorCode,
  ResourceNotFoundError,
  ResourceTemplate,
  type McpServer,
  type ReadResourceResult,
} from '@modelcontextprotocol/server';
import { isFleetError } from '../core/errors.ts';
import { hasRole } from '../services/context.ts';
import { TELEMETRY_METRICS, type TelemetryMetric } from '../api/schemas/miners.ts';
import { iso } from '../services/query/time.ts';
import { mcpMessage, type ToolEnv } from './define-tool.ts';
import { overviewOf } from './tools/fleet.ts';
import { minerView } from './tools/miners.ts';
import { jobView } from './tools/shared.ts';

export const RESOURCE_URIS = {
  fleetSummary: 'bosfleet://fleet/summary',
  miner: 'bosfleet://miners/{id}',
  minerTelemetry: 'bosfleet://miners/{id}/telemetry',
  job: 'bosfleet://jobs/{id}',
  inventory: 'bosfleet://inventory',
} as const;

/** Most inventory entries in the inventory resource. */
const INVENTORY_MAX = 1_000;

function json(uri: URL, body: unknown): ReadResourceResult {
  return { contents: [{ uri: uri.href, mimeType: 'application/json', text: JSON.stringify(body) }] };
}

/** FleetError -> the protocol error a resources/read answers with; anything else is logged. */
function readError(env: ToolEnv, uri: URL, err: unknown): never {
  if (isFleetError(err)) {
    if (err.code === 'not_found') throw new ResourceNotFoundError(uri.href, mcpMessage(err.message));
    if (err.code === 'invalid_argument') throw new ProtocolError(ProtocolErrorCode.InvalidParams, mcpMessage(err.message));
    if (err.code !== 'internal') throw new ProtocolError(ProtocolErrorCode.InternalError, mcpMessage(err.message));
  }
  env.log.error({ err, uri: uri.href }, 'MCP resource read failed');
  throw new ProtocolError(ProtocolErrorCode.InternalError, 'internal error while reading the resource; it has been logged');
}

const variable = (v: string | string[] | undefined): string => decodeURIComponent(Array.isArray(v) ? (v[0] ?? '') : (v ?? ''));

export function registerResources(server: McpServer, env: ToolEnv): void {
  const { deps, caller } = env;
  const completeId = { id: (value: string) => env.lookup.complete(caller, value) };

  server.registerResource(
    'fleet_summary',
    RESOURCE_URIS.fleetSummary,
    {
      title: 'Fleet summary',
      description: 'Totals of the fleet (miners by status, hashrate vs nominal, power, J/TH) with per-site and per-model rows.',
      mimeType: 'application/json',
    },
    async uri => {
      try {
        return json(uri, overviewOf(await deps.fleetQuery.summary(caller), 50));
      } catch (err) {
        return readError(env, uri, err);
      }
    },
  );

  server.registerResource(
    'miner',
    new ResourceTemplate(RESOURCE_URIS.miner, { list: undefined, complete: completeId }),
    {
      title: 'Miner',
      description: 'Latest stored state of one miner with boards, fans, pools and identity.',
      mimeType: 'application/json',
    },
    async (uri, vars) => {
      try {
        return json(uri, minerView(await deps.fleetQuery.getMiner(caller, variable(vars.id)), 'detailed'));
      } catch (err) {
        return readError(env, uri, err);
      }
    },
  );

  server.registerResource(
    'miner_telemetry',
    new ResourceTemplate(RESOURCE_URIS.minerTelemetry, { list: undefined, complete: completeId }),
    {
      title: 'Miner telemetry',
      description: "One miner's last hour at 1-minute steps: hashrate, power, chip temperature, availability.",
      mimeType: 'application/json',
    },
    async (uri, vars) => {
      try {
        const metrics: TelemetryMetric[] = ['hashrate_ths', 'power_w', 'temp_chip_max_c', 'up_pct'];
        const t = await deps.fleetQuery.telemetry(caller, variable(vars.id), { metrics, step: '1m' });
        return json(uri, {
          miner: t.miner,
          from: t.from,
          to: t.to,
          step_s: t.step_s,
          source: t.source,
          series: metrics.map(m => ({
            metric: m,
            unit: TELEMETRY_METRICS[m].unit,
            values: t.points.map(p => p[m] ?? null),
          })),
          note: 'values[i] is the bucket starting at from + i * step_s',
          ...(t.hint ? { hint: t.hint } : {}),
        });
      } catch (err) {
        return readError(env, uri, err);
      }
    },
  );

  server.registerResource(
    'job',
    new ResourceTemplate(RESOURCE_URIS.job, {
      list: undefined,
      complete: {
        id: async (value: string) =>
          (await deps.plane.jobs.list(caller, { limit: 20 }).catch(() => ({ items: [] }))).items
            .map(j => j.id)
            .filter(id => id.startsWith(value)),
      },
    }),
    {
      title: 'Job',
      description: 'One batch-control or firmware-rollout job: status, progress, outcome, per-miner results and latest steps.',
      mimeType: 'application/json',
    },
    async (uri, vars) => {
      try {
        const id = variable(vars.id);
        const d = await deps.plane.jobs.get(caller, id, { resultsLimit: 100 });
        const steps = await deps.plane.jobs.steps(caller, id, { limit: 10_000 }).catch(() => ({ steps: [] }));
        return json(uri, {
          ...jobView(d),
          outcome: d.outcome,
          results: d.results.map(r => ({
            id: r.id,
            site: r.site,
            status: r.status,
            ...(r.code ? { code: r.code } : {}),
            ...(r.message ? { message: r.message } : {}),
          })),
          results_total: d.results_total,
          results_truncated: d.results_truncated,
          steps: steps.steps.slice(-20).map(s => ({ time: iso(s.time_ms), kind: s.kind, message: s.message, ...(s.miner ? { miner: s.miner } : {}) })),
        });
      } catch (err) {
        return readError(env, uri, err);
      }
    },
  );

  server.registerResource(
    'inventory',
    RESOURCE_URIS.inventory,
    {
      title: 'Inventory',
      description: 'Your miners as the collector knows them: id, address, port, site, labels and source; no secrets.',
      mimeType: 'application/json',
    },
    async uri => {
      try {
        // A broken entry is left out by the store; it is the collector's to report.
        const mine = (await deps.infra.store.inventory.readResolved()).filter(m => m.tenant === caller.tenant);
        const admin = hasRole(caller, 'admin');
        mine.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
        return json(uri, {
          tenant: caller.tenant,
          miners: mine.slice(0, INVENTORY_MAX).map(m => ({
            id: m.id,
            address: m.host,
            port: m.port,
            site: m.site,
            labels: m.labels ?? {},
            source: m.source,
            // Names of credential entries are not secrets, but only admins manage them.
            ...(admin ? { credentials: m.credentials } : {}),
          })),
          total: mine.length,
          truncated: mine.length > INVENTORY_MAX,
          ...(mine.length > INVENTORY_MAX ? { hint: `only the first ${INVENTORY_MAX} miners by id; list_miners filters the rest` } : {}),
        });
      } catch (err) {
        return readError(env, uri, err);
      }
    },
  );
}
