import { influxSettingsFrom } from '../collector/config.ts';
import { EventLog } from '../collector/event-log.ts';
import { InfluxWriter } from '../store/influx-redis/influx-writer.ts';
import { influxSeriesWriter } from '../store/influx-redis/series.ts';
import { createCollectorMetrics } from '../collector/metrics.ts';
import { createControlPlane, controlRoutePlugins, type ControlPlane } from '../services/control/index.ts';
import type { ApiInfra } from '../services/context.ts';
import type { ApiExtension } from './server.ts';
import type { FleetQuery } from '../services/query/fleet-query.ts';
import type { ApiMetrics } from './metrics.ts';
import { mcpRoutes } from './routes/mcp.ts';
import { consoleRoutes } from '../console/plugin.ts';

export interface FullApiHandles {
  plane: ControlPlane;
  events: EventLog;
  writer: InfluxWriter;
}

/**
 * The control half, its audit trail and MCP over HTTP, wired onto the query half: the
 * `extension` that `bos-fleet api` and the demo pass to startApiServer.
 */
export function fullApiExtension(onReady?: (h: FullApiHandles & { fleetQuery: FleetQuery }) => void) {
  return async (infra: ApiInfra, shared: { metrics: ApiMetrics; fleetQuery: FleetQuery }): Promise<ApiExtension> => {
    // Audit events go to InfluxDB through our own writer; its counters are ours, not the collector's.
    const writer = new InfluxWriter({
      settings: influxSettingsFrom(infra.config),
      metrics: createCollectorMetrics(undefined, { processMetrics: false }),
      logger: infra.log,
      batchSize: 1_000,
      flushIntervalMs: 1_000,
      bufferMaxPoints: 100_000,
      maxRetryDelayMs: 30_000,
    });
    const events = new EventLog({ redis: infra.redis, keys: infra.keys, writer: influxSeriesWriter(writer), maxLen: 10_000, logger: infra.log });
    const plane = createControlPlane(infra, { audit: events });
    const routes = [...controlRoutePlugins(plane)];
    onReady?.({ plane, events, writer, fleetQuery: shared.fleetQuery });
    return {
      routes,
      async mount(app) {
        await app.register(mcpRoutes, { fleetQuery: shared.fleetQuery, plane });
        await app.register(consoleRoutes, { fleetQuery: shared.fleetQuery, plane });
      },
      async start() {
        await writer.start().catch(err => infra.log.warn({ err: (err as Error).message }, 'audit writer: InfluxDB not ready; events are buffered'));
        await plane.start();
      },
      async close() {
        await plane.close();
        await writer.close({ timeoutMs: 10_000 });
      },
    };
  };
}
