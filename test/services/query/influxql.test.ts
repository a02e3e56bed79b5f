import { describe, expect, it } from 'vitest';
import { FleetError } from '../../../core/errors.ts';
import { defaultStep, pickSource } from '../../../services/query/influxql.ts';
import { select, tagEq, tagIn, timeRange } from '../../../store/influx-redis/influxql.ts';
import { formatDuration, parseDuration, parseTime, resolveRange } from '../../../services/query/time.ts';

// Pure helpers of the query service: InfluxQL building (escaping of user input), the rollup
// selection rule and time parsing (keyset cursors: miner-table.test.ts).

describe('InfluxQL builders', () => {
  it('quote identifiers and values; user input never breaks out of a literal or regex', () => {
    expect(tagEq('tenant', "a' OR 1=1 --")).toBe(`"tenant" = 'a\\' OR 1=1 --'`);
    expect(tagEq('miner', 'x\\')).toBe(`"miner" = 'x\\\\'`);
    expect(tagIn('miner', ['a.b', 'c/d|e'])).toBe('"miner" =~ /^(a\\.b|c\\/d\\|e)$/');
    expect(timeRange(0, 60_000)).toBe(
      "time >= '1970-01-01T00:00:00.000Z' AND time < '1970-01-01T00:01:00.000Z'",
    );
  });

  it('builds the subquery shape used for fleet sums', () => {
    const inner = select({
      fields: ['mean("hashrate_ghs") AS "v"'],
      from: 'miner_1m',
      where: [tagEq('tenant', 'acme'), false, timeRange(0, 3_600_000)],
      bucketMs: 300_000,
      groupBy: ['miner'],
      fill: 'none',
    });
    const q = select({
      fields: ['sum("v") AS "v"'],
      from: { subquery: inner },
      where: [timeRange(0, 3_600_000)],
      bucketMs: 300_000,
      fill: 'null',
    });
    expect(q).toBe(
      `SELECT sum("v") AS "v" FROM (SELECT mean("hashrate_ghs") AS "v" FROM "miner_1m" WHERE "tenant" = 'acme' AND time >= '1970-01-01T00:00:00.000Z' AND time < '1970-01-01T01:00:00.000Z' GROUP BY time(300s), "miner" fill(none)) WHERE time >= '1970-01-01T00:00:00.000Z' AND time < '1970-01-01T01:00:00.000Z' GROUP BY time(300s) fill(null)`,
    );
    expect(q).not.toMatch(/SLIMIT|SOFFSET|SAMPLE|INTO/);
  });

  it('picks raw, 1m or 1h by range and scope', () => {
    const h = 3_600_000;
    expect(pickSource(6 * h, 'miner', 10_000).name).toBe('raw');
    expect(pickSource(6 * h + 1, 'miner', 10_000).name).toBe('1m');
    expect(pickSource(7 * 24 * h, 'miner', 10_000).name).toBe('1m');
    expect(pickSource(7 * 24 * h + 1, 'miner', 10_000).name).toBe('1h');
    expect(pickSource(h, 'fleet', 10_000).name).toBe('raw');
    expect(pickSource(2 * h, 'fleet', 10_000).measurement).toBe('miner_1m');
    expect(pickSource(13 * h, 'fleet', 10_000).measurement).toBe('miner_1h');
  });

  it('default steps keep answers at about 500 points and never below the resolution', () => {
    expect(defaultStep(3_600_000, 10_000)).toBe(10_000);
    expect(defaultStep(24 * 3_600_000, 60_000)).toBe(5 * 60_000);
    expect(defaultStep(90 * 24 * 3_600_000, 3_600_000)).toBe(6 * 3_600_000);
  });
});

describe('times and durations', () => {
  const now = Date.parse('2025-06-01T12:00:00Z');
  it('parses ISO, epoch ms and now-relative times', () => {
    expect(parseTime('from', '2025-06-01T10:00:00Z', now)).toBe(now - 2 * 3_600_000);
    expect(parseTime('from', '2025-06-01', now)).toBe(Date.parse('2025-06-01T00:00:00Z'));
    expect(parseTime('from', 'now-6h', now)).toBe(now - 6 * 3_600_000);
    expect(parseTime('from', String(now), now)).toBe(now);
    expect(() => parseTime('from', 'last tuesday', now)).toThrow(/^from: expected an ISO 8601 time/);
  });

  it('checks ranges and durations with messages naming the limit', () => {
    expect(() => resolveRange({ from: 'now-91d' }, now, 3_600_000, 90 * 86_400_000)).toThrow(
      'range 91d exceeds the 90d maximum; narrow from/to',
    );
    expect(() => resolveRange({ from: 'now', to: 'now-1h' }, now, 3_600_000, 90 * 86_400_000)).toThrow(
      /from must be before to/,
    );
    expect(parseDuration('step', '5m')).toBe(300_000);
    expect(() => parseDuration('step', '5 minutes')).toThrow(FleetError);
    expect(formatDuration(7 * 86_400_000)).toBe('7d');
    expect(formatDuration(90_000)).toBe('90s');
    expect(formatDuration(90 * 86_400_000)).toBe('90d');
  });
});
