import { z } from 'zod';
import type { EventKind } from '../../core/samples.ts';
import { IsoTime, MinerId, TimeParam, limitParam } from './common.ts';

export const EVENT_KINDS = [
  'miner_offline',
  'miner_online',
  'status_changed',
  'reboot_detected',
  'mining_restarted',
  'planned_restart',
  'hashboard_lost',
  'hashboard_recovered',
  'overheating',
  'pool_dead',
  'firmware_changed',
  'control_action',
  'job_step',
] as const satisfies readonly EventKind[];
// Compile-time check that the list above names every EventKind of core/samples.ts.
const _allKinds: readonly (typeof EVENT_KINDS)[number][] = [] as EventKind[];
void _allKinds;

export const EVENT_SEVERITIES = ['info', 'warning', 'critical'] as const;

export const EventsQuery = z.strictObject({
  from: TimeParam.optional().describe('Oldest event time (default: the latest events, newest first).'),
  to: TimeParam.optional().describe('Newest event time, inclusive (default: now).'),
  miner: MinerId.optional(),
  kind: z.enum(EVENT_KINDS, { error: `expected one of ${EVENT_KINDS.join(', ')}` }).optional(),
  severity: z.enum(EVENT_SEVERITIES, { error: `expected one of ${EVENT_SEVERITIES.join(', ')}` }).optional(),
  limit: limitParam(100, 1_000),
});

export const FleetEventItem = z.object({
  time: IsoTime,
  site: z.string(),
  miner: z.string(),
  kind: z.string(),
  severity: z.enum(EVENT_SEVERITIES),
  message: z.string(),
  actor: z.string().nullable(),
  result: z.string().nullable(),
  data: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])).nullable(),
});
export type FleetEventItem = z.output<typeof FleetEventItem>;

export const EventList = z.object({
  items: z.array(FleetEventItem).describe('Newest first.'),
  limit: z.number().int(),
  truncated: z
    .boolean()
    .describe('More events matched than are shown; narrow from/to or filters, or raise limit.'),
  source: z
    .enum(['recent', 'history'])
    .describe('recent = the Redis stream of latest events; history = InfluxDB `event` points.'),
  hint: z.string().optional(),
});
export type EventList = z.output<typeof EventList>;
