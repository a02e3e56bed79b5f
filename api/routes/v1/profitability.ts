import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { serviceJson } from '../../plugins/json.ts';
import { BreakEven, BreakEvenQuery, ENERGY_ERRORS, LosingMiners, LosingMinersQuery, Profitability, ProfitabilityQuery } from '../../schemas/energy.ts';

/** Profitability of the caller's miners: thin over ProfitabilityService (services/energy). */
const profitabilityRoutes: FastifyPluginAsyncZod = async app => {
  app.setSerializerCompiler(serviceJson);

  app.get(
    '/energy/profitability',
    {
      schema: {
        tags: ['energy'],
        summary: 'Revenue, power cost and margin for the fleet and per site, model or miner over a range, from stored series.',
        querystring: ProfitabilityQuery,
        response: { 200: Profitability, ...ENERGY_ERRORS },
      },
    },
    async req => await app.profitability.profitability(req.caller, req.query),
  );

  app.get(
    '/energy/losing-miners',
    {
      schema: {
        tags: ['energy'],
        summary: 'Miners that lose money at the current prices (their mean hashrate and power over the last hour by default), biggest loss first.',
        querystring: LosingMinersQuery,
        response: { 200: LosingMiners, ...ENERGY_ERRORS },
      },
    },
    async req => await app.profitability.losingMiners(req.caller, req.query),
  );

  app.get(
    '/energy/break-even',
    {
      schema: {
        tags: ['energy'],
        summary: 'Per model: efficiency and the energy price (per MWh) at which it stops earning at the hashprice used.',
        querystring: BreakEvenQuery,
        response: { 200: BreakEven, ...ENERGY_ERRORS },
      },
    },
    async req => await app.profitability.breakEven(req.caller, req.query),
  );
};

export default profitabilityRoutes;
