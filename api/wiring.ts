import type { EventsPort } from '../store/ports/events.ts';
import { createControlPlane, controlRoutePlugins, type ControlPlane } from '../services/control/index.ts';
import type { ApiInfra } from '../services/context.ts';
import type { ApiExtension } from './server.ts';
import type { FleetQuery } from '../services/query/fleet-query.ts';
import type { ApiMetrics } from './metrics.ts';
import { mcpRoutes } from './routes/mcp.ts';
import { consoleRoutes } from '../console/plugin.ts';
import { createEnergyMetrics } from '../services/energy/energy-metrics.ts';

export interface FullApiHandles {
  plane: ControlPlane;
  events: EventsPort;
}

/**
 * The control half, its audit trail and MCP over HTTP, wired onto the query half: the
 * `extension` that `bos-fleet api` and the demo pass to startApiServer.
 */
export function fullApiExtension(onReady?: (h: FullApiHandles & { fleetQuery: FleetQuery }) => void) {
  return async (infra: ApiInfra, shared: { metrics: ApiMetrics; fleetQuery: FleetQuery }): Promise<ApiExtension> => {
    // The audit trail is the store's events port (the store drains its writes on close).
    const events = infra.store.events;
    const plane = createControlPlane(infra, { energy: { metrics: createEnergyMetrics(shared.metrics.registry) } });
    const routes = [...controlRoutePlugins(plane)];
    onReady?.({ plane, events, fleetQuery: shared.fleetQuery });
    return {
      routes,
      async mount(app) {
        await app.register(mcpRoutes, { fleetQuery: shared.fleetQuery, plane });
        await app.register(consoleRoutes, { fleetQuery: shared.fleetQuery, plane });
      },
      async start() {
        await plane.start();
      },
      async close() {
        await plane.close();
      },
    };
  };
}
