import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { serviceJson } from '../../plugins/json.ts';
import { READ_ERRORS, errorResponses } from '../../schemas/common.ts';
import {
  MinerDetail,
  MinerList,
  MinerListQuery,
  MinerParams,
  Telemetry,
  TelemetryQuery,
} from '../../schemas/miners.ts';

const MINER_ERRORS = { ...READ_ERRORS, ...errorResponses(404) };

/** Miners: filtered, sorted, paginated list; one miner's latest state; one miner's series. */
const minerRoutes: FastifyPluginAsyncZod = async app => {
  app.setSerializerCompiler(serviceJson); // answers are built by FleetQuery, typed by the schemas (see plugins/json.ts)

  app.get(
    '/miners',
    {
      schema: {
        tags: ['miners'],
        summary: 'List miners with filters, sorting and cursor pagination.',
        description:
          'Current values are null while a miner is offline. Pass next_cursor as cursor for the next page.',
        querystring: MinerListQuery,
        response: { 200: MinerList, ...READ_ERRORS },
      },
    },
    async req => await app.fleetQuery.listMiners(req.caller, req.query),
  );

  app.get(
    '/miners/:id',
    {
      schema: {
        tags: ['miners'],
        summary: 'One miner: status, last poll, hashboards, fans, pools, tuner, firmware.',
        params: MinerParams,
        response: { 200: MinerDetail, ...MINER_ERRORS },
      },
    },
    async req => await app.fleetQuery.getMiner(req.caller, req.params.id),
  );

  app.get(
    '/miners/:id/telemetry',
    {
      schema: {
        tags: ['miners'],
        summary:
          "One miner's series over time (raw polls up to 6h, 1-minute rollups up to 7d, hourly beyond; max 90d).",
        params: MinerParams,
        querystring: TelemetryQuery,
        response: { 200: Telemetry, ...MINER_ERRORS },
      },
    },
    async req => {
      const q = req.query;
      return await app.fleetQuery.telemetry(req.caller, req.params.id, {
        metrics: q.metrics,
        from: q.from,
        to: q.to,
        step: q.step,
        aggregate: q.aggregate,
        boards: q.boards === 'true',
      });
    },
  );
};

export default minerRoutes;
