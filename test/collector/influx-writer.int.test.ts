import { randomUUID } from 'node:crypto';
import { toLines } from '../../store/influx-redis/line-protocol.ts';
import { pino } from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import { InfluxClient, rowsOf, type InfluxSettings } from '../../store/influx-redis/influx-client.ts';
import { InfluxWriter, rejectedLines, type InfluxWriterOptions } from '../../store/influx-redis/influx-writer.ts';
import { createCollectorMetrics, type CollectorMetrics } from '../../collector/metrics.ts';
import { samplePoints } from '../../collector/points.ts';
import type { MinerSample } from '../../core/samples.ts';
import { startLocalInflux, type LocalService } from '../../demo/local-services.ts';

// Real InfluxDB throughout: the shared test server, plus a private one (startLocalInflux) that
// the outage and buffer tests stop and start again on the same port and data dir.

const sleep = (ms: number): Promise<void> => new Promise(r => setTimeout(r, ms));
const BASE = Math.floor(Date.now() / 3_600_000) * 3_600_000 - 3_600_000;
const lines = (from: number, n: number, m = 'm'): string[] =>
  Array.from({ length: n }, (_, i) => `${m},src=test v=${from + i} ${BASE + from + i}`);

function captureLogs(): { logger: pino.Logger; entries: Record<string, unknown>[] } {
  const entries: Record<string, unknown>[] = [];
  const logger = pino(
    { level: 'debug' },
    { write: (s: string) => void entries.push(JSON.parse(s) as Record<string, unknown>) },
  );
  return { logger, entries };
}

async function metricValue(
  m: CollectorMetrics,
  name: keyof CollectorMetrics,
  labels: Record<string, string> = {},
): Promise<number> {
  const metric = m[name] as {
    get(): Promise<{ values: { value: number; labels: Record<string, unknown> }[] }>;
  };
  const { values } = await metric.get();
  return values
    .filter(v => Object.entries(labels).every(([k, val]) => v.labels[k] === val))
    .reduce((a, v) => a + v.value, 0);
}

interface Harness {
  writer: InfluxWriter;
  metrics: CollectorMetrics;
  client: InfluxClient;
  logs: Record<string, unknown>[];
}

const open: { writer: InfluxWriter; client: InfluxClient }[] = [];

function harness(
  url: string,
  over: Partial<InfluxWriterOptions> = {},
  db = `t_${randomUUID().replaceAll('-', '')}`,
): Harness {
  const settings: InfluxSettings = { url, db, auth: 'none', flavour: '1', timeoutMs: 5_000 };
  const metrics = createCollectorMetrics();
  const { logger, entries } = captureLogs();
  const client = new InfluxClient(settings);
  const writer = new InfluxWriter({
    settings,
    metrics,
    logger,
    batchSize: 100,
    flushIntervalMs: 100,
    bufferMaxPoints: 100_000,
    maxRetryDelayMs: 1_000,
    ...over,
  });
  open.push({ writer, client });
  return { writer, metrics, client, logs: entries };
}

async function count(client: InfluxClient, m = 'm'): Promise<number> {
  const rows = rowsOf(await client.query(`SELECT count(v) FROM ${m}`));
  return Number(rows[0]?.count ?? 0);
}

afterEach(async () => {
  for (const { writer, client } of open.splice(0)) {
    await writer.close({ timeoutMs: 1_000 });
    await fetch(`${client.settings.url}/query`, {
      method: 'POST',
      body: new URLSearchParams({ q: `DROP DATABASE ${client.settings.db}` }),
    }).catch(() => undefined);
  }
});

describe('InfluxWriter against the shared InfluxDB', () => {
  const url = inject('influxUrl');

  it('sends full batches right away and the rest on flush', async () => {
    const { writer, metrics, client } = harness(url, { batchSize: 100, flushIntervalMs: 60_000 });
    await writer.start();
    writer.write(lines(0, 250));
    await expect.poll(() => count(client), { timeout: 5_000 }).toBe(200); // two full batches, no timer involved
    // InfluxDB can answer a query for the second batch before the writer has read that batch's 204.
    await expect.poll(() => writer.pending, { timeout: 2_000 }).toBe(50);
    await writer.flush();
    expect(await count(client)).toBe(250);
    expect(writer.pending).toBe(0);
    expect(await metricValue(metrics, 'pointsWritten')).toBe(250);
    expect(await metricValue(metrics, 'bufferFill')).toBe(0);
  });

  it('flushes on the interval', async () => {
    const { writer, client } = harness(url, { batchSize: 10_000, flushIntervalMs: 100 });
    await writer.start();
    for (let i = 0; i < 10; i++) writer.write(lines(i * 10, 10));
    await expect.poll(() => count(client), { timeout: 5_000 }).toBe(100);
  });

  it('stores sample points with the designed field types', async () => {
    const { writer, client } = harness(url);
    await writer.start();
    const sample = {
      time_ms: BASE,
      ref: { id: 'm1', tenant: 't', site: 's', address: 'a:1', credentials: 'c', labels: {} },
      model: 'S19',
      hostname: 'm1',
      firmware: 'fw',
      status: 'online',
      degraded_reasons: [],
      miner_status: 'normal',
      tuner_state: 'stable',
      hashrate_ghs: 100000,
      hashrate_5m_ghs: 100000,
      hashrate_nominal_ghs: 100000,
      hashrate_error_mhs: 0,
      power_w: 3000,
      power_target_w: 3000,
      efficiency_jth: 30,
      temp_chip_max_c: 70,
      temp_board_max_c: 60,
      fan_rpm_min: 4000,
      fan_rpm_avg: 4000,
      shares_accepted: 1,
      shares_rejected: 0,
      shares_stale: 0,
      uptime_s: 60,
      boards_hashing: 1,
      boards_total: 1,
      hashboards: [
        {
          board: '0',
          enabled: true,
          hashrate_ghs: 100000,
          hashrate_nominal_ghs: 100000,
          hashrate_error_mhs: 0,
          temp_chip_c: 70,
          temp_board_c: 60,
          temp_inlet_c: 40,
          temp_outlet_c: 50,
          voltage_v: 14,
          frequency_mhz: 500,
          chips: 126,
        },
      ],
      fans: [{ fan: '0', rpm: 4000, pwm_ratio: 0.5 }],
      pools: [
        {
          group: 'g',
          pool: 'stratum+tcp://p:3333',
          user: 'u',
          accepted: 1,
          rejected: 0,
          stale: 0,
          alive: true,
          active: true,
          enabled: true,
        },
      ],
    } satisfies MinerSample;
    writer.write(toLines(samplePoints(sample)));
    await writer.flush();
    const types = async (m: string): Promise<Record<string, unknown>> =>
      Object.fromEntries(
        rowsOf(await client.query(`SHOW FIELD KEYS FROM ${m}`)).map(r => [r.fieldKey, r.fieldType]),
      );
    expect(await types('miner')).toMatchObject({
      up: 'integer',
      status: 'string',
      hashrate_ghs: 'float',
      power_w: 'float',
      efficiency_jth: 'float',
      fan_rpm_min: 'integer',
      fan_rpm_avg: 'float',
      shares_accepted: 'integer',
      uptime_s: 'integer',
      boards_total: 'integer',
      firmware: 'string',
    });
    expect(await types('hashboard')).toMatchObject({
      hashrate_ghs: 'float',
      voltage_v: 'float',
      frequency_mhz: 'float',
      chips: 'integer',
      enabled: 'integer',
    });
    expect(await types('fan')).toEqual({ rpm: 'integer', pwm_ratio: 'float' });
    expect(await types('pool')).toEqual({
      accepted: 'integer',
      rejected: 'integer',
      stale: 'integer',
      alive: 'integer',
      active: 'integer',
      enabled: 'integer',
    });
  });

  it('drops lines InfluxDB rejects (400), counts them, logs the body once and does not retry', async () => {
    const { writer, metrics, client, logs } = harness(url, { batchSize: 1_000 });
    await writer.start();
    writer.write([...lines(0, 5), 'm,src=test v= 123', ...lines(5, 5)]);
    await writer.flush();
    expect(await count(client)).toBe(10); // InfluxDB keeps the valid lines of the batch
    writer.write(lines(10, 3).concat(`m,src=test v=7i ${BASE + 50}`)); // field type conflict
    await writer.flush();
    expect(await count(client)).toBe(13);
    expect(await metricValue(metrics, 'pointsDropped', { reason: 'rejected' })).toBe(2);
    expect(await metricValue(metrics, 'writeRetries')).toBe(0);
    expect(await metricValue(metrics, 'writeFailures')).toBe(2);
    expect(writer.pending).toBe(0);
    const errors = logs.filter(l => l.msg === 'InfluxDB rejected points (not retried)');
    expect(errors).toHaveLength(1); // second rejection within a minute is not logged again
    expect(String(errors[0]?.influx_error)).toContain('unable to parse');
  });

  it('creates a missing database on 404 and retries', async () => {
    const { writer, metrics, client } = harness(url);
    // no start(): the database does not exist yet
    writer.write(lines(0, 20));
    await writer.flush().catch(() => undefined); // first attempt: 404 -> database created, batch kept
    await writer.flush();
    expect(await count(client)).toBe(20);
    expect(await metricValue(metrics, 'pointsDropped')).toBe(0);
  });

  it('close() writes everything still buffered, later writes are dropped and counted', async () => {
    const { writer, metrics, client } = harness(url, { batchSize: 10_000, flushIntervalMs: 600_000 });
    await writer.start();
    writer.write(lines(0, 3_000));
    expect(writer.pending).toBe(3_000);
    await writer.close({ timeoutMs: 10_000 });
    expect(await count(client)).toBe(3_000);
    writer.write(lines(3_000, 5));
    expect(await metricValue(metrics, 'pointsDropped', { reason: 'closed' })).toBe(5);
  });

  it('counts rejected lines from InfluxDB error bodies', () => {
    expect(
      rejectedLines(
        '{"error":"partial write: unable to parse \'a\': x\\nunable to parse \'b\': y dropped=0"}',
        10,
      ),
    ).toBe(2);
    expect(rejectedLines('{"error":"partial write: field type conflict: … dropped=3"}', 10)).toBe(3);
    expect(
      rejectedLines(
        '{"code":"invalid","message":"partial write error (7 written): unable to parse \'x\'"}',
        10,
      ),
    ).toBe(3);
    expect(rejectedLines('{"error":"request entity too large"}', 10)).toBe(10);
  });
});

describe('InfluxWriter through InfluxDB outages', () => {
  let influx: LocalService;

  beforeAll(async () => {
    influx = await startLocalInflux();
  });

  afterAll(async () => {
    for (const { writer } of open.splice(0)) await writer.close({ timeoutMs: 1_000 });
    await influx?.destroy();
  });

  it('drops the OLDEST lines when the buffer is full, counts them and warns once', async () => {
    const { writer, metrics, client, logs } = harness(influx.url, {
      bufferMaxPoints: 1_000,
      batchSize: 100,
      minRetryDelayMs: 10_000,
    });
    await writer.start();
    await influx.stop();
    for (let i = 0; i < 15; i++) {
      writer.write(lines(i * 100, 100));
      await sleep(20);
    }
    expect(writer.pending).toBe(1_000);
    expect(await metricValue(metrics, 'pointsDropped', { reason: 'buffer_full' })).toBe(500);
    expect(await metricValue(metrics, 'bufferFill')).toBe(1_000);
    expect(await metricValue(metrics, 'bufferCapacity')).toBe(1_000);
    expect(logs.filter(l => String(l.msg).startsWith('InfluxDB write buffer full'))).toHaveLength(1);
    await influx.start();
    await writer.close({ timeoutMs: 20_000 });
    const rows = rowsOf(await client.query('SELECT count(v), min(v), max(v) FROM m'));
    expect(rows[0]).toMatchObject({ count: 1_000, min: 500, max: 1_499 }); // 0..499 were the oldest
  });

  it('loses nothing through a 20 s outage: keeps polling, buffers, retries, then delivers every point', async () => {
    const { writer, metrics, client } = harness(influx.url, {
      batchSize: 50,
      flushIntervalMs: 200,
      maxRetryDelayMs: 2_000,
    });
    await writer.start();
    let next = 0;
    const producer = setInterval(() => {
      writer.write(lines(next, 10, 'outage'));
      next += 10;
    }, 100);
    try {
      await sleep(2_000);
      await influx.stop();
      const downAt = next;
      await sleep(20_000);
      expect(writer.pending).toBeGreaterThanOrEqual(next - downAt - 100); // buffered while down
      await influx.start();
      await sleep(2_000);
    } finally {
      clearInterval(producer);
    }
    await writer.close({ timeoutMs: 30_000 });
    expect(next).toBeGreaterThan(2_000);
    expect(await count(client, 'outage')).toBe(next);
    const rows = rowsOf(await client.query('SELECT min(v), max(v) FROM outage'));
    expect(rows[0]).toMatchObject({ min: 0, max: next - 1 });
    expect(await metricValue(metrics, 'pointsWritten')).toBeGreaterThanOrEqual(next);
    expect(await metricValue(metrics, 'pointsDropped')).toBe(0);
    expect(await metricValue(metrics, 'writeRetries')).toBeGreaterThan(0);
  }, 90_000);
});
