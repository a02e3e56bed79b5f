import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { serviceJson } from '../../plugins/json.ts';
import { READ_ERRORS } from '../../schemas/common.ts';
import { EventList, EventsQuery } from '../../schemas/events.ts';

/** The audit trail: latest events from the Redis stream, older or bounded queries from InfluxDB. */
const eventRoutes: FastifyPluginAsyncZod = async app => {
  app.setSerializerCompiler(serviceJson); // answers are built by FleetQuery, typed by the schemas (see plugins/json.ts)

  app.get(
    '/events',
    {
      schema: {
        tags: ['events'],
        summary: 'Fleet events (status changes, errors, control actions, job steps), newest first.',
        querystring: EventsQuery,
        response: { 200: EventList, ...READ_ERRORS },
      },
    },
    async req => await app.fleetQuery.events(req.caller, req.query),
  );
};

export default eventRoutes;
