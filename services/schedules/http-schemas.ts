import { z } from 'zod';
import { minerSelectorSchema } from '../control/selector.ts';

/** Response schemas of /api/v1/schedules (the request body is scheduleInputSchema). */

export const ScheduleWindowSchema = z.object({
  start_ms: z.number(),
  end_ms: z.number(),
  started_ms: z.number().nullable(),
  ended_ms: z.number().nullable(),
  start_job: z.string().nullable().describe('Batch job that applied the window start.'),
  end_job: z.string().nullable().describe('Batch job that put the miners back.'),
  miners: z.number().int(),
  late: z.boolean().describe('Started after its time (no replica was up at the start).'),
  note: z.string().nullable(),
});

export const ScheduleSchema = z.object({
  id: z.string(),
  tenant: z.string(),
  name: z.string(),
  selector: minerSelectorSchema,
  cron: z.string(),
  timezone: z.string(),
  duration_ms: z.number().nullable(),
  end_cron: z.string().nullable(),
  action: z.union([
    z.object({ type: z.literal('pause') }),
    z.object({ type: z.literal('power_target'), watt: z.number() }),
  ]),
  enabled: z.boolean(),
  created_by: z.string(),
  created_ms: z.number(),
  next_start_ms: z.number().nullable(),
  next_end_ms: z.number().nullable(),
  recent_windows: z.array(ScheduleWindowSchema),
});

export const ScheduleListSchema = z.object({ items: z.array(ScheduleSchema), total: z.number().int() });

export const ScheduleIdParams = z.strictObject({ id: z.uuid({ error: 'expected a schedule id (UUID)' }) });

export const ScheduleRemovedSchema = z.object({ removed: z.literal(true), ended_window: z.boolean() });
