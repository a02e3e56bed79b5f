/**
 * The services the MCP server runs on when it is its own process (stdio): the same connections
 * and services as api/server.ts builds them (Redis, InfluxDB client, credential store, miner
 * client pool -> ApiInfra; FleetQuery; the control plane with an audit EventLog), built in one
 * function; the connections themselves come from api/infra.ts, shared with the API server.
 */
import { Registry } from 'prom-client';
import { influxSettingsFrom } from '../collector/config.ts';
import { EventLog } from '../collector/event-log.ts';
import { InfluxWriter } from '../store/influx-redis/influx-writer.ts';
import { influxSeriesWriter } from '../store/influx-redis/series.ts';
import type { Logger } from '../runtime/logger.ts';
import { createCollectorMetrics } from '../collector/metrics.ts';
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
  /** the caller can change miners: record control actions (needs the InfluxDB writer) */
  control: boolean;
}

/** Infra + FleetQuery + control plane (with its audit log); the worker starts in the background. */
export async function createMcpRuntime(config: ApiConfig, log: Logger, o: McpRuntimeOptions): Promise<McpRuntime> {
  const handle = createMcpInfra(config, log);
  const { infra } = handle;
  if (!(await waitForRedis(infra.redis, 3_000)))
    log.warn({ redis: redactRedisUrl(config.REDIS_URL) }, 'Redis is not reachable yet; tools answer unavailable until it is');
  const fleetQuery = new FleetQuery(
    { redis: infra.redis, redisUrl: config.REDIS_URL, keys: infra.keys, influx: infra.influx, store: infra.store, log },
    { pollIntervalMs: o.pollIntervalMs },
  );
  // Control actions are audited like the API's: InfluxDB `event` points and the tenant's stream.
  // A read-only session changes nothing, so it writes nothing either.
  const writer = o.control
    ? new InfluxWriter({
        settings: influxSettingsFrom(config),
        metrics: createCollectorMetrics(new Registry()),
        logger: log,
        batchSize: 1_000,
        flushIntervalMs: 1_000,
        bufferMaxPoints: 100_000,
        maxRetryDelayMs: 30_000,
      })
    : null;
  await writer?.start();
  const audit = writer
    ? new EventLog({ redis: infra.redis, keys: infra.keys, writer: influxSeriesWriter(writer), maxLen: 10_000, logger: log })
    : { record: async () => undefined };
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
      await writer?.close({ timeoutMs: 2_000 }).catch(() => undefined);
      await fleetQuery.close();
      await handle.close();
    },
  };
}
