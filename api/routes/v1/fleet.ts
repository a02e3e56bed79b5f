import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { serviceJson } from '../../plugins/json.ts';
import { READ_ERRORS } from '../../schemas/common.ts';
import {
  FleetSeries,
  FleetSeriesQuery,
  FleetSummary,
  PoolHealth,
  PoolHealthQuery,
} from '../../schemas/fleet.ts';

/** Fleet state (from the collector's Redis snapshots and aggregates) and fleet-level series. */
const fleetRoutes: FastifyPluginAsyncZod = async app => {
  app.setSerializerCompiler(serviceJson); // answers are built by FleetQuery, typed by the schemas (see plugins/json.ts)

  app.get(
    '/fleet/summary',
    {
      schema: {
        tags: ['fleet'],
        summary: 'Fleet totals with breakdowns by status, site and model.',
        description:
          'Miners online/degraded/offline/paused, hashrate against nominal, power and J/TH, from the latest poll of every miner. Cheap at any fleet size.',
        response: { 200: FleetSummary, ...READ_ERRORS },
      },
    },
    async req => await app.fleetQuery.summary(req.caller),
  );

  app.get(
    '/fleet/series',
    {
      schema: {
        tags: ['fleet'],
        summary:
          'A fleet-level time series (sum of per-miner means per bucket), optionally per site or model.',
        querystring: FleetSeriesQuery,
        response: { 200: FleetSeries, ...READ_ERRORS },
      },
    },
    async req => {
      const q = req.query;
      return await app.fleetQuery.fleetSeries(req.caller, {
        metric: q.metric,
        from: q.from,
        to: q.to,
        step: q.step,
        groupBy: q.group_by,
        site: q.site,
        model: q.model,
      });
    },
  );

  app.get(
    '/fleet/pools',
    {
      schema: {
        tags: ['fleet'],
        summary: 'Pool health: per pool URL, miners using it, alive/dead and share ratios.',
        querystring: PoolHealthQuery,
        response: { 200: PoolHealth, ...READ_ERRORS },
      },
    },
    async req =>
      await app.fleetQuery.poolHealth(req.caller, { limit: req.query.limit, site: req.query.site }),
  );
};

export default fleetRoutes;
