import { FleetError } from '../../core/errors.ts';

/**
 * Times and durations as callers write them (REST query strings, MCP tool arguments):
 *  - times: ISO 8601 (`2025-01-31T12:00:00Z`, `2025-01-31`), epoch milliseconds, `now`, `now-6h`;
 *  - durations: an integer and a unit, `30s`, `5m`, `6h`, `7d`, `2w`.
 * Parse errors are FleetError('invalid_argument') naming the field and the expected form.
 */

const UNIT_MS = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 } as const;
const DURATION_RE = /^(\d{1,9})(s|m|h|d|w)$/;
const RELATIVE_RE = /^now(?:-(\d{1,9})(s|m|h|d|w))?$/;
const ISO_RE = /^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:?\d{2})?)?$/;
const EPOCH_MS_RE = /^\d{12,14}$/;

export const TIME_FORM = 'an ISO 8601 time such as 2025-01-31T12:00:00Z, epoch milliseconds, or now / now-6h';
export const DURATION_FORM = 'a duration such as 30s, 5m, 6h, 7d or 2w';

export const MINUTE_MS = 60_000;

/**
 * Times outside these bounds are refused where they are parsed: nothing bos-fleet stores is older
 * than the first bitcoin block, and InfluxDB refuses times far outside its range (a 500 otherwise).
 */
export const EARLIEST_TIME_MS = Date.UTC(2009, 0, 3);
export const LATEST_AHEAD_MS = 86_400_000;
export const TIME_BOUNDS = '2009-01-03 .. now+1d';
export const HOUR_MS = 3_600_000;
export const DAY_MS = 86_400_000;

export function isDuration(value: string): boolean {
  return DURATION_RE.test(value);
}

export function isTime(value: string): boolean {
  if (RELATIVE_RE.test(value) || EPOCH_MS_RE.test(value)) return true;
  return ISO_RE.test(value) && Number.isFinite(Date.parse(value));
}

export function parseDuration(field: string, value: string): number {
  const m = DURATION_RE.exec(value);
  if (!m)
    throw new FleetError('invalid_argument', `${field}: expected ${DURATION_FORM}`, {
      details: { field, value },
    });
  const ms = Number(m[1]) * UNIT_MS[m[2] as keyof typeof UNIT_MS];
  if (ms <= 0)
    throw new FleetError('invalid_argument', `${field}: expected a duration above zero`, {
      details: { field, value },
    });
  return ms;
}

/** A time input (string forms above, or epoch ms as a number) -> epoch ms, within TIME_BOUNDS. */
export function parseTime(field: string, value: string | number, nowMs: number): number {
  const ms = parseTimeForm(field, value, nowMs);
  if (ms < EARLIEST_TIME_MS || ms > nowMs + LATEST_AHEAD_MS)
    throw new FleetError('invalid_argument', `${field}: ${String(value)} is outside ${TIME_BOUNDS}; expected a time in that range`, {
      details: { field, value, min: iso(EARLIEST_TIME_MS), max: 'now+1d' },
    });
  return ms;
}

function parseTimeForm(field: string, value: string | number, nowMs: number): number {
  if (typeof value === 'number') {
    if (Number.isFinite(value) && value >= 0) return Math.floor(value);
  } else {
    const rel = RELATIVE_RE.exec(value);
    if (rel) return rel[1] ? nowMs - Number(rel[1]) * UNIT_MS[rel[2] as keyof typeof UNIT_MS] : nowMs;
    if (EPOCH_MS_RE.test(value)) return Number(value);
    if (ISO_RE.test(value)) {
      const ms = Date.parse(value.replace(' ', 'T'));
      if (Number.isFinite(ms)) return ms;
    }
  }
  throw new FleetError('invalid_argument', `${field}: expected ${TIME_FORM}`, { details: { field, value } });
}

/** `90d`, `6h`, `5m`, `30s`, `1500ms`: the largest unit up to days that divides evenly. */
export function formatDuration(ms: number): string {
  for (const [unit, size] of [
    ['d', UNIT_MS.d],
    ['h', UNIT_MS.h],
    ['m', UNIT_MS.m],
    ['s', UNIT_MS.s],
  ] as const) {
    if (ms >= size && ms % size === 0) return `${ms / size}${unit}`;
  }
  return `${ms}ms`;
}

export function iso(ms: number): string {
  return new Date(ms).toISOString();
}

export interface TimeRange {
  fromMs: number;
  toMs: number;
}

/**
 * from/to with defaults (to = now, from = to - defaultRange), checked: from before to and the
 * range no longer than maxRangeMs (message names the maximum).
 */
export function resolveRange(
  input: { from?: string | number | undefined; to?: string | number | undefined },
  nowMs: number,
  defaultRangeMs: number,
  maxRangeMs: number,
  names: { from: string; to: string } = { from: 'from', to: 'to' },
): TimeRange {
  const toMs = input.to === undefined ? nowMs : parseTime(names.to, input.to, nowMs);
  const fromMs = input.from === undefined ? toMs - defaultRangeMs : parseTime(names.from, input.from, nowMs);
  if (fromMs >= toMs) {
    throw new FleetError(
      'invalid_argument',
      `${names.from} must be before ${names.to} (got ${iso(fromMs)} .. ${iso(toMs)})`,
      {
        details: { field: names.from },
      },
    );
  }
  if (toMs - fromMs > maxRangeMs) {
    throw new FleetError(
      'invalid_argument',
      `range ${formatDuration(roundUp(toMs - fromMs))} exceeds the ${formatDuration(maxRangeMs)} maximum; narrow ${names.from}/${names.to}`,
      {
        details: { field: names.from, max_range: formatDuration(maxRangeMs) },
      },
    );
  }
  return { fromMs, toMs };
}

/** A window (`24h`) ending at `to` (default now). */
export function resolveWindow(
  window: string,
  to: string | number | undefined,
  nowMs: number,
  maxRangeMs: number,
): TimeRange {
  const len = parseDuration('window', window);
  if (len > maxRangeMs) {
    throw new FleetError(
      'invalid_argument',
      `window ${window} exceeds the ${formatDuration(maxRangeMs)} maximum`,
      { details: { field: 'window', max_range: formatDuration(maxRangeMs) } },
    );
  }
  const toMs = to === undefined ? nowMs : parseTime('to', to, nowMs);
  return { fromMs: toMs - len, toMs };
}

function roundUp(ms: number): number {
  for (const size of [UNIT_MS.d, UNIT_MS.h, UNIT_MS.m, UNIT_MS.s])
    if (ms >= size) return Math.ceil(ms / size) * size;
  return ms;
}
