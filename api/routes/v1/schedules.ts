import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { requireRole } from '../../auth/authenticate.ts';
import { controlRateLimit } from '../../plugins/rate-limit.ts';
import {
  ScheduleIdParams,
  ScheduleListSchema,
  ScheduleRemovedSchema,
  ScheduleSchema,
} from '../../../services/schedules/http-schemas.ts';
import { scheduleInputSchema, type ScheduleService } from '../../../services/schedules/schedule-service.ts';
import { READ_ERRORS, errorResponses } from '../../schemas/common.ts';

export interface ScheduleRouteDeps {
  services: { schedules: ScheduleService };
}

/** Power schedules (curtailment windows): list and read (viewer), create and delete (operator). */
export function scheduleRoutes(deps: ScheduleRouteDeps): FastifyPluginAsyncZod {
  const { schedules } = deps.services;
  return async app => {
    app.get(
      '/schedules',
      {
        schema: {
          tags: ['schedules'],
          summary: 'Your power schedules with their next and recent windows.',
          response: { 200: ScheduleListSchema, ...READ_ERRORS },
        },
      },
      async req => {
        const list = await schedules.list(req.caller);
        return { items: list, total: list.length };
      },
    );

    app.get(
      '/schedules/:id',
      {
        schema: {
          tags: ['schedules'],
          summary: 'One power schedule.',
          params: ScheduleIdParams,
          response: { 200: ScheduleSchema, ...READ_ERRORS, ...errorResponses(404) },
        },
      },
      async req => schedules.get(req.caller, req.params.id),
    );

    app.post(
      '/schedules',
      {
        onRequest: requireRole('operator'),
        config: controlRateLimit,
        schema: {
          tags: ['schedules'],
          summary:
            'Create a recurring window (cron + time zone, duration or end cron) that pauses the miners or lowers their power target, and puts them back at its end.',
          body: scheduleInputSchema,
          response: { 201: ScheduleSchema, ...READ_ERRORS },
        },
      },
      async (req, reply) => {
        reply.code(201);
        return schedules.create(req.caller, req.body);
      },
    );

    app.delete(
      '/schedules/:id',
      {
        onRequest: requireRole('operator'),
        config: controlRateLimit,
        schema: {
          tags: ['schedules'],
          summary: 'Delete a schedule; a window in progress is ended first (miners put back).',
          params: ScheduleIdParams,
          response: { 200: ScheduleRemovedSchema, ...READ_ERRORS, ...errorResponses(404) },
        },
      },
      async req => schedules.remove(req.caller, req.params.id),
    );
  };
}
