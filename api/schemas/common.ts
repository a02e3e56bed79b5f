import { z } from 'zod';
import { FLEET_ERROR_CODES } from '../../core/errors.ts';
import { minerIdSchema, scopeNameSchema } from '../../collector/inventory/schema.ts';
import { HEALTH_STATUSES } from '../../core/samples.ts';
import { MAX_RANGE_MS } from '../../services/query/influxql.ts';
import { DURATION_FORM, TIME_FORM, formatDuration, isDuration, isTime, parseDuration } from '../../services/query/time.ts';

/**
 * Building blocks shared by every request and response schema. Conventions: snake_case keys,
 * units in key names (`hashrate_ths`, `power_kw`, `power_w`, `temp_c`, `efficiency_jth`,
 * `_pct`, `_minutes`), ISO 8601 UTC timestamps, null for "not known" (never a made-up 0).
 * Request objects are strict: an unknown parameter is a 400 naming it, not silently ignored.
 */

export const ErrorBody = z
  .object({
    error: z.object({
      code: z.enum(FLEET_ERROR_CODES),
      message: z.string().describe('What went wrong and what to change, written for the caller.'),
      details: z.record(z.string(), z.unknown()),
    }),
  })
  .describe('Every error answer has this shape.');

/** The error statuses a route can answer, all with ErrorBody. */
export function errorResponses<S extends number>(...statuses: S[]): Record<S, typeof ErrorBody> {
  return Object.fromEntries(statuses.map(s => [s, ErrorBody])) as Record<S, typeof ErrorBody>;
}

/** Statuses every authenticated read route can answer. */
export const READ_ERRORS = errorResponses(400, 401, 403, 429, 500, 503);

/** Output timestamps are `Date#toISOString()` strings (a plain string schema keeps the JSON Schema short). */
export const IsoTime = z.string().meta({ format: 'date-time', description: 'ISO 8601 UTC timestamp' });

export const TimeParam = z
  .string()
  .refine(isTime, { error: `expected ${TIME_FORM}` })
  .describe(`A time: ${TIME_FORM}.`);

export const DurationParam = z
  .string()
  .refine(isDuration, { error: `expected ${DURATION_FORM}` })
  .describe(`A duration: ${DURATION_FORM}.`);

// Control characters (CR, LF, NUL, …) have no place in a model name, label or search text; refusing
// them at the edge keeps them out of every store query (InfluxQL, Redis keys) and logs.
// eslint-disable-next-line no-control-regex
const CONTROL_CHARS = /[\u0000-\u001f\u007f]/;
const TAG_TEXT_MSG = 'expected 1-128 characters of text without control characters (CR, LF, NUL, tab)';

/** A free-text filter on a tag-like value (model name, firmware, search text): 1-128 printable characters. */
export const TagFilter = z
  .string({ error: TAG_TEXT_MSG })
  .min(1, { error: TAG_TEXT_MSG })
  .max(128, { error: TAG_TEXT_MSG })
  .refine(v => !CONTROL_CHARS.test(v), { error: TAG_TEXT_MSG });

/** True when text has no control characters (for patterns such as label key=value). */
export function isPrintable(value: string): boolean {
  return !CONTROL_CHARS.test(value);
}

const STEP_MSG = `expected ${DURATION_FORM}, at most ${formatDuration(MAX_RANGE_MS)} (and no longer than the range)`;

/**
 * A bucket size: a duration above zero and no longer than the longest range any query serves.
 * The query service checks the rest against the actual range (step ≤ range, points cap).
 */
export const StepParam = z
  .string({ error: STEP_MSG })
  .refine(v => isDuration(v) && stepWithinBounds(v), { error: STEP_MSG })
  .describe(`Bucket size: ${DURATION_FORM}; at most the range.`);

function stepWithinBounds(value: string): boolean {
  try {
    const ms = parseDuration('step', value);
    return ms <= MAX_RANGE_MS;
  } catch {
    return false;
  }
}

export function limitParam(def: number, max: number): z.ZodDefault<z.ZodCoercedNumber> {
  const msg = `expected an integer between 1 and ${max}`;
  return z.coerce
    .number({ error: msg })
    .int({ error: msg })
    .min(1, { error: msg })
    .max(max, { error: msg })
    .default(def)
    .describe(
      `Most items to return (1..${max}, default ${def}); the answer says whether more matched (truncated).`,
    );
}

export const HealthStatusSchema = z.enum(HEALTH_STATUSES);
export const MinerId = minerIdSchema.describe('Miner id (inventory id, Braiins uid or serial).');
export const SiteName = scopeNameSchema.describe('Site name.');

export const StatusCounts = z.object({
  online: z.number().int(),
  degraded: z.number().int(),
  offline: z.number().int(),
  paused: z.number().int(),
  stopped: z.number().int(),
});

/** A list that may have been cut: how many matched, how many are shown, and whether more exist. */
export const ListMeta = {
  total: z.number().int().describe('How many matched in all.'),
  limit: z.number().int().describe('Most items this answer could carry.'),
  truncated: z
    .boolean()
    .describe('True when more items matched than are shown; narrow the query or raise limit.'),
  hint: z.string().optional().describe('How to narrow or widen the query, or why the answer may be empty.'),
};

export const SourceSchema = z
  .enum(['raw', '1m', '1h'])
  .describe(
    'Which series answered: raw polls (`miner`), 1-minute rollups (`miner_1m`; `fleet_1m` for fleet series) or 1-hour rollups (`miner_1h`; `fleet_1h` for fleet series).',
  );

/** Per-miner analytics: the rollups above, or the collector's per-miner window statistics in Redis. */
export const StatsSourceSchema = z
  .enum(['raw', '1m', '1h', 'window_stats'])
  .describe(
    'Which data answered: `window_stats` = per-miner window statistics the collector keeps in Redis (5-minute, hourly and daily buckets; `window` says what they covered); otherwise InfluxDB raw polls (`miner`), 1-minute (`miner_1m`) or 1-hour rollups (`miner_1h`), used when Redis holds no statistics for the window.',
  );

export const WindowSchema = z.object({ from: IsoTime, to: IsoTime });
