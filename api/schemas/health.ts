import { z } from 'zod';
import { STORE_BACKENDS } from '../../store/store.ts';
import { IsoTime } from './common.ts';

export const Liveness = z.object({ status: z.literal('ok') });

const Check = z.object({
  status: z.enum(['up', 'down']),
  latency_ms: z.number().nullable(),
  message: z.string().optional(),
});

export const Readiness = z.object({
  status: z.enum(['ready', 'not_ready']),
  store: z
    .object({ backend: z.enum(STORE_BACKENDS) })
    .describe('The storage backend: embedded (one process, a data folder) or influx-redis (InfluxDB and Redis servers).'),
  down: z.array(z.string()).describe('Dependencies that did not answer.'),
  checks: z.record(z.string(), Check).describe('One entry per dependency of the store: redis and influxdb, or sqlite.'),
  collector: z
    .object({ last_heartbeat: IsoTime.nullable(), age_s: z.number().nullable() })
    .describe('Information only: when the collector last reported (does not affect readiness).'),
});
export type Readiness = z.output<typeof Readiness>;
