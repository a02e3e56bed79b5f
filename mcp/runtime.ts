/**
 * The services the MCP server runs on when it is its own process (stdio): the same connections
 * and services as api/server.ts builds them (Redis, InfluxDB client, credential store, miner
 * client pool -> ApiInfra; FleetQuery; the control plane auditing to the store), built in one
 * function; the connections themselves come from api/infra.ts, shared with the API server.
 */
import type { Logger } from '../runtime/logger.ts';
import type { InfluxRedisStore } from '../store/influx-redis/index.ts';
import type { ApiConfig } from '../api/config.ts';
import { createInfra, type InfraHandle } from '../api/infra.ts';
import { redactRedisUrl, waitForRedis } from '../store/influx-redis/redis-connection.ts';
import { createControlPlane } from '../services/control/index.ts';
import { FleetQuery } from '../services/query/fleet-query.ts';
import type { McpDeps } from './define-tool.ts';

export type McpInfraHandle = InfraHandle;

/** Connections and shared clients, the same as the API server's (api/infra.ts). */
export function createMcpInfra(config: ApiConfig, log: Logger, name = 'bosfleet-mcp'): McpInfraHandle {
  return createInfra(config, log, name);
}

export interface McpRuntime {
  deps: McpDeps;
  close(): Promise<void>;
}

export interface McpRuntimeOptions {
  pollIntervalMs: number;
  /** run the job worker and schedule evaluator here */
  worker: boolean;
  /** the caller can change miners: record control actions in the store's events */
  control: boolean;
}

/** Infra + FleetQuery + control plane (with its audit log); the worker starts in the background. */
export async function createMcpRuntime(config: ApiConfig, log: Logger, o: McpRuntimeOptions): Promise<McpRuntime> {
  const handle = createMcpInfra(config, log);
  const { infra } = handle;
  if (infra.store.backend === 'influx-redis' && !(await waitForRedis((infra.store as InfluxRedisStore).redis, 3_000)))
    log.warn({ redis: redactRedisUrl(config.REDIS_URL) }, 'Redis is not reachable yet; tools answer unavailable until it is');
  const fleetQuery = new FleetQuery(
    { store: infra.store, redisUrl: config.REDIS_URL, log },
    { pollIntervalMs: o.pollIntervalMs },
  );
  // Control actions are audited like the API's, in the store's events. A read-only session
  // changes nothing, so it writes nothing either.
  const audit = o.control ? infra.store.events : { record: async () => undefined };
  const plane = createControlPlane(infra, {
    audit,
    jobs: { runWorker: o.worker },
    schedules: { enabled: o.worker },
  });
  let started: Promise<void> = Promise.resolve();
  if (o.worker) {
    started = plane.start().catch(err => log.warn({ err: (err as Error).message }, 'job worker not started'));
  }
  return {
    deps: { fleetQuery, plane, infra },
    async close() {
      // A worker still waiting for Redis must not hold the shutdown.
      await Promise.race([started, new Promise(r => setTimeout(r, 3_000).unref())]);
      await plane.close({ force: true }).catch(err => log.warn({ err: (err as Error).message }, 'control plane did not close cleanly'));
      await fleetQuery.close();
      await handle.close();
    },
  };
}
