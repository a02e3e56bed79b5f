import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';
import { afterEach, describe, expect, inject, it } from 'vitest';
import { createCollectorMetrics } from '../../collector/metrics.ts';
import { InfluxClient, rowsOf, type InfluxSettings } from '../../store/influx-redis/influx-client.ts';
import { InfluxWriter, type InfluxWriterOptions } from '../../store/influx-redis/influx-writer.ts';

// Several write requests in flight (INFLUX_WRITE_CONCURRENCY), against the real InfluxDB behind a
// loopback proxy that sees every request: how many overlap, which lines InfluxDB acknowledged
// (InfluxDB itself cannot show a duplicate: the same point written twice is stored once), and
// which requests to fail.

const BASE = Math.floor(Date.now() / 3_600_000) * 3_600_000 - 3_600_000;
const lines = (from: number, n: number): string[] =>
  Array.from({ length: n }, (_, i) => `m,src=test v=${from + i} ${BASE + from + i}`);

interface Proxy {
  url: string;
  /** most /write requests open at the same time */
  maxInFlight: number;
  /** `v` of every line InfluxDB answered 204 for, in arrival order */
  acked: number[];
  /** answer this /write request (1-based count) with a 503 instead of forwarding it */
  failRequest: (n: number) => boolean;
  writes: number;
  server: Server;
}

async function body(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

/** A proxy to `target` that holds each write until `overlap` are open (or holdMs passed) to make overlap visible. */
async function startProxy(target: string, overlap: number, holdMs: number): Promise<Proxy> {
  let open = 0;
  const release: (() => void)[] = [];
  const p: Proxy = { url: '', maxInFlight: 0, acked: [], failRequest: () => false, writes: 0, server: undefined as never };
  p.server = createServer((req, res) => {
    void (async () => {
      const raw = await body(req);
      if (!req.url?.startsWith('/write')) {
        const r = await fetch(`${target}${req.url}`, { method: req.method, headers: { 'content-type': String(req.headers['content-type'] ?? '') }, body: req.method === 'GET' ? undefined : raw });
        res.writeHead(r.status, { 'content-type': r.headers.get('content-type') ?? 'text/plain' }).end(Buffer.from(await r.arrayBuffer()));
        return;
      }
      const n = ++p.writes;
      open++;
      p.maxInFlight = Math.max(p.maxInFlight, open);
      await new Promise<void>(resolve => {
        if (open >= overlap) {
          for (const r of release.splice(0)) r();
          resolve();
        } else {
          release.push(resolve);
          setTimeout(resolve, holdMs).unref();
        }
      });
      const text = (req.headers['content-encoding'] === 'gzip' ? gunzipSync(raw) : raw).toString('utf8');
      try {
        if (p.failRequest(n)) {
          res.writeHead(503, { 'content-type': 'application/json' }).end('{"error":"injected failure"}');
          return;
        }
        const r = await fetch(`${target}${req.url}`, { method: 'POST', body: text });
        if (r.status === 204) for (const l of text.split('\n')) if (l) p.acked.push(Number(/ v=(\d+) /.exec(l)![1]));
        res.writeHead(r.status).end(await r.text());
      } finally {
        open--;
      }
    })();
  });
  await new Promise<void>(resolve => p.server.listen(0, '127.0.0.1', resolve));
  p.url = `http://127.0.0.1:${(p.server.address() as AddressInfo).port}`;
  return p;
}

const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

async function setup(overlap: number, over: Partial<InfluxWriterOptions>, holdMs = 2_000) {
  const target = inject('influxUrl');
  const proxy = await startProxy(target, overlap, holdMs);
  const db = `t_${randomUUID().replaceAll('-', '')}`;
  const settings: InfluxSettings = { url: proxy.url, db, auth: 'none', flavour: '1', timeoutMs: 10_000 };
  const metrics = createCollectorMetrics();
  const writer = new InfluxWriter({
    settings,
    metrics,
    batchSize: 100,
    flushIntervalMs: 60_000,
    bufferMaxPoints: 100_000,
    maxRetryDelayMs: 200,
    minRetryDelayMs: 50,
    ...over,
  });
  const direct = new InfluxClient({ ...settings, url: target });
  cleanup.push(async () => {
    await writer.close({ timeoutMs: 1_000 });
    await direct.query(`DROP DATABASE "${db}"`).catch(() => undefined);
    await new Promise(r => proxy.server.close(r));
  });
  return { proxy, writer, metrics, direct };
}

const sorted = (xs: number[]): number[] => [...xs].sort((a, b) => a - b);
const range = (n: number): number[] => Array.from({ length: n }, (_, i) => i);

describe('InfluxWriter with several requests in flight', () => {
  it('keeps INFLUX_WRITE_CONCURRENCY requests open and writes every line exactly once', async () => {
    const { proxy, writer, direct } = await setup(4, { concurrency: 4 });
    await writer.start();
    writer.write(lines(0, 4_000));
    await expect.poll(() => proxy.acked.length, { timeout: 20_000 }).toBe(4_000);
    await writer.flush();
    expect(proxy.maxInFlight).toBe(4);
    expect(sorted(proxy.acked)).toEqual(range(4_000));
    expect(writer.written).toBe(4_000);
    expect(writer.pending).toBe(0);
    const rows = rowsOf(await direct.query('SELECT count(v) FROM m'));
    expect(rows[0]?.count).toBe(4_000);
  });

  it('one request at a time by default', async () => {
    const { proxy, writer } = await setup(2, {}, 300);
    await writer.start();
    writer.write(lines(0, 600));
    await writer.flush();
    expect(proxy.maxInFlight).toBe(1);
    expect(sorted(proxy.acked)).toEqual(range(600));
  });

  it('retries a failed batch while the others in flight succeed, losing and duplicating nothing', async () => {
    const { proxy, writer, metrics } = await setup(3, { concurrency: 3 });
    proxy.failRequest = n => n === 2 || n === 5; // two batches fail once each, among overlapping ones
    await writer.start();
    writer.write(lines(0, 1_500));
    await expect.poll(() => proxy.acked.length, { timeout: 20_000 }).toBe(1_500);
    await writer.flush();
    expect(sorted(proxy.acked)).toEqual(range(1_500));
    expect(writer.written).toBe(1_500);
    expect(writer.dropped).toBe(0);
    expect(proxy.writes).toBe(17); // 15 batches + 2 retries
    const { values } = await metrics.writeRetries.get();
    expect(values[0]?.value).toBe(2);
  });

  it('still holds the buffer cap, with the batches on the wire counted in it', async () => {
    // The proxy holds failing requests until four are open: lines keep coming while 4 batches are on the wire.
    const { proxy, writer, metrics } = await setup(
      4,
      { concurrency: 4, batchSize: 500, bufferMaxPoints: 1_000, minRetryDelayMs: 60_000, maxRetryDelayMs: 60_000 },
      1_000,
    );
    let down = true;
    proxy.failRequest = () => down;
    await writer.start();
    for (let i = 0; i < 15; i++) {
      writer.write(lines(i * 100, 100));
      expect(writer.pending).toBeLessThanOrEqual(1_000);
      await new Promise(r => setImmediate(r)); // let the size trigger start lanes between writes
    }
    await expect.poll(() => proxy.maxInFlight, { timeout: 5_000 }).toBe(4);
    await expect.poll(() => writer.pending, { timeout: 5_000 }).toBe(1_000);
    const { values: dropped } = await metrics.pointsDropped.get();
    expect(dropped.find(v => v.labels.reason === 'buffer_full')?.value).toBe(500);
    down = false;
    await writer.flush();
    // Which 500 went depends on what was on the wire when the buffer overflowed (batches in flight
    // are not dropped); every line is either delivered once or counted as dropped, and the newest
    // half of the buffer always survives.
    expect(proxy.acked).toHaveLength(1_000);
    expect(new Set(proxy.acked).size).toBe(1_000);
    expect(proxy.acked.every(v => v >= 0 && v < 1_500)).toBe(true);
    expect(sorted(proxy.acked).slice(500)).toEqual(range(500).map(v => v + 1_000));
    expect(writer.pending).toBe(0);
  });
});
