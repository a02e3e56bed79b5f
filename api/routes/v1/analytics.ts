import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { serviceJson } from '../../plugins/json.ts';
import {
  Availability,
  AvailabilityQuery,
  CompareQuery,
  ComparePeriods,
  EfficiencyQuery,
  EfficiencyRanking,
  HotSpots,
  HotSpotsQuery,
  Underperformers,
  UnderperformersQuery,
} from '../../schemas/analytics.ts';
import { READ_ERRORS } from '../../schemas/common.ts';

/** Fleet analytics over a time window, bounded to top-k answers with totals. */
const analyticsRoutes: FastifyPluginAsyncZod = async app => {
  app.setSerializerCompiler(serviceJson); // answers are built by FleetQuery, typed by the schemas (see plugins/json.ts)

  app.get(
    '/analytics/underperformers',
    {
      schema: {
        tags: ['analytics'],
        summary: 'Miners (or hashboards) hashing below a percentage of nominal over a window, worst first.',
        querystring: UnderperformersQuery,
        response: { 200: Underperformers, ...READ_ERRORS },
      },
    },
    async req => {
      const q = req.query;
      return await app.fleetQuery.underperformers(req.caller, {
        window: q.window,
        to: q.to,
        thresholdPct: q.threshold_pct,
        level: q.level,
        site: q.site,
        limit: q.limit,
      });
    },
  );

  app.get(
    '/analytics/hot-spots',
    {
      schema: {
        tags: ['analytics'],
        summary: 'Hottest miners (or hashboards) over a window.',
        querystring: HotSpotsQuery,
        response: { 200: HotSpots, ...READ_ERRORS },
      },
    },
    async req => {
      const q = req.query;
      return await app.fleetQuery.hotSpots(req.caller, {
        window: q.window,
        to: q.to,
        level: q.level,
        site: q.site,
        limit: q.limit,
      });
    },
  );

  app.get(
    '/analytics/efficiency',
    {
      schema: {
        tags: ['analytics'],
        summary: 'Miners ranked by efficiency (J/TH) over a window.',
        querystring: EfficiencyQuery,
        response: { 200: EfficiencyRanking, ...READ_ERRORS },
      },
    },
    async req => {
      const q = req.query;
      return await app.fleetQuery.efficiencyRanking(req.caller, {
        window: q.window,
        to: q.to,
        order: q.order,
        site: q.site,
        limit: q.limit,
      });
    },
  );

  app.get(
    '/analytics/compare',
    {
      schema: {
        tags: ['analytics'],
        summary:
          'What changed between two periods: hashrate, power, efficiency, availability and offline minutes per site or model.',
        querystring: CompareQuery,
        response: { 200: ComparePeriods, ...READ_ERRORS },
      },
    },
    async req => {
      const q = req.query;
      return await app.fleetQuery.comparePeriods(req.caller, {
        a: { from: q.a_from, to: q.a_to },
        b: { from: q.b_from, to: q.b_to },
        groupBy: q.group_by,
      });
    },
  );

  app.get(
    '/analytics/availability',
    {
      schema: {
        tags: ['analytics'],
        summary:
          'Availability (share of polls that reached the miner) and offline minutes per miner or site, least available first.',
        querystring: AvailabilityQuery,
        response: { 200: Availability, ...READ_ERRORS },
      },
    },
    async req => {
      const q = req.query;
      return await app.fleetQuery.availability(req.caller, {
        from: q.from,
        to: q.to,
        level: q.level,
        site: q.site,
        limit: q.limit,
      });
    },
  );
};

export default analyticsRoutes;
