import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { z } from 'zod';
import type { Caller } from '../../../services/context.ts';
import {
  Availability,
  ComparePeriods,
  EfficiencyRanking,
  HotSpots,
  Underperformers,
} from '../../../api/schemas/analytics.ts';
import { EventList } from '../../../api/schemas/events.ts';
import { FleetSeries, FleetSummary, PoolHealth } from '../../../api/schemas/fleet.ts';
import { MinerDetail, MinerList, Telemetry } from '../../../api/schemas/miners.ts';
import { InfluxClient } from '../../../store/influx-redis/influx-client.ts';
import { openFleetFixture, windowStats, type FleetFixture } from '../../services/query/fleet-fixture.ts';
import { BACKENDS } from '../../store/backends.ts';
import { buildTestApp, testConfig, testKeys, type TestApp, type TestKeys } from './helpers.ts';

// The real app (buildApp) over each storage backend holding the fixture fleet, driven through
// app.inject: routes, query-string mapping, validation errors, OpenAPI, health and metrics.

const HOUR = 3_600_000;
const acme: Caller = { sub: 'alice', tenant: 'acme', roles: ['viewer'] };

describe.each(BACKENDS)('%s', backend => {
  let fx: FleetFixture;
  let keys: TestKeys;
  let t: TestApp;
  let auth: { authorization: string };

  // Response bodies are walked freely in assertions; their shapes are checked by the expectations.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  type Json = any;

  async function get(
    url: string,
    headers: Record<string, string> = auth,
  ): Promise<{ status: number; body: Json; headers: Record<string, unknown> }> {
    const res = await t.app.inject({ method: 'GET', url, headers });
    let body: unknown = res.body;
    try {
      body = res.json();
    } catch {
      // text answers (metrics, docs)
    }
    return { status: res.statusCode, body, headers: res.headers };
  }

  const iso = (ms: number): string => new Date(ms).toISOString();

  beforeAll(async () => {
    fx = await openFleetFixture(backend);
    keys = await testKeys();
    t = await buildTestApp(fx, { config: testConfig({ AUTH_PUBLIC_KEY: keys.publicPem }) });
    auth = { authorization: `Bearer ${await keys.token({ tenant: 'acme', roles: ['viewer'] })}` };
  }, 120_000);

  afterAll(async () => {
    await t?.app.close();
    await fx?.cleanup();
  });

  describe('read routes answer what the query service answers', () => {
    it('GET /api/v1/fleet/summary', async () => {
      const r = await get('/api/v1/fleet/summary');
      expect(r.status).toBe(200);
      expect(r.body).toEqual(await t.fleetQuery.summary(acme));
      expect(r.body.totals.miners).toBe(20);
    });

    it('GET /api/v1/miners with filters, sort and cursor', async () => {
      const first = await get('/api/v1/miners?sort=temperature&limit=4&label=rack%3Dr1');
      expect(first.status).toBe(200);
      expect(first.body).toEqual(
        await t.fleetQuery.listMiners(acme, { sort: 'temperature', limit: 4, label: 'rack=r1' }),
      );
      expect(first.body.items[0].id).toBe('acme-dc1-07');
      const next = await get(
        `/api/v1/miners?sort=temperature&limit=4&label=rack%3Dr1&cursor=${encodeURIComponent(first.body.next_cursor)}`,
      );
      expect(next.status).toBe(200);
      expect(next.body.items.map((i: { id: string }) => i.id)).not.toContain(first.body.items[0].id);
      const two = await get('/api/v1/miners?label=rack%3Dr2&label=role%3Dcanary');
      expect(two.body.items.map((i: { id: string }) => i.id)).toEqual(
        fx
          .tenantMiners('acme')
          .filter(m => m.labels.rack === 'r2' && m.labels.role === 'canary')
          .map(m => m.id),
      );
    });

    it('GET /api/v1/miners/:id and its telemetry', async () => {
      const d = await get('/api/v1/miners/acme-dc1-03');
      expect(d.status).toBe(200);
      expect(d.body).toEqual(await t.fleetQuery.getMiner(acme, 'acme-dc1-03'));
      const from = fx.nowMs - HOUR;
      const tel = await get(
        `/api/v1/miners/acme-dc1-03/telemetry?metrics=hashrate_ths,power_w&from=${iso(from)}&to=${iso(fx.nowMs)}&step=30m&boards=true`,
      );
      expect(tel.status).toBe(200);
      expect(tel.body).toEqual(
        await t.fleetQuery.telemetry(acme, 'acme-dc1-03', {
          metrics: 'hashrate_ths,power_w',
          from: iso(from),
          to: iso(fx.nowMs),
          step: '30m',
          boards: true,
        }),
      );
      const w = windowStats(fx, fx.miner('acme-dc1-03'), from, from + HOUR / 2);
      expect(tel.body.points[0].hashrate_ths).toBeCloseTo(w.hashrate_mean_ghs! / 1_000, 2);
      expect(tel.body.boards).toHaveLength(3);
    });

    it('GET /api/v1/fleet/series and /fleet/pools', async () => {
      const s = await get(
        `/api/v1/fleet/series?metric=hashrate_ths&from=${fx.startMs}&to=${fx.nowMs}&step=1h&group_by=site`,
      );
      expect(s.status).toBe(200);
      expect(s.body).toEqual(
        await t.fleetQuery.fleetSeries(acme, {
          metric: 'hashrate_ths',
          from: fx.startMs,
          to: fx.nowMs,
          step: '1h',
          groupBy: 'site',
        }),
      );
      expect(s.body.series.map((x: { group: string }) => x.group)).toEqual(['dc1', 'dc2']);
      const p = await get('/api/v1/fleet/pools?limit=1');
      expect(p.status).toBe(200);
      expect(p.body).toMatchObject({ total: 2, truncated: true, limit: 1 });
    });

    it('GET /api/v1/analytics/*', async () => {
      const to = iso(fx.nowMs);
      const u = await get(`/api/v1/analytics/underperformers?window=3h&to=${to}&threshold_pct=86`);
      expect(u.status).toBe(200);
      // acme-dc1-10 is paused: left out, named in the hint
      expect(u.body.items.map((i: { miner: string }) => i.miner)).toEqual(['acme-dc1-03', 'acme-dc2-05']);
      expect(u.body.hint).toContain('acme-dc1-10 paused');
      const u2 = await get(`/api/v1/analytics/underperformers?window=3h&to=${to}&threshold_pct=80`);
      expect(u2.body.items.map((i: { miner: string }) => i.miner)).toEqual(['acme-dc1-03']);
      const hs = await get(`/api/v1/analytics/hot-spots?window=1h&to=${to}&limit=1`);
      expect(hs.body.items[0].miner).toBe('acme-dc1-07');
      const eff = await get(`/api/v1/analytics/efficiency?window=3h&to=${to}&order=best&limit=3`);
      expect(eff.body).toEqual(
        await t.fleetQuery.efficiencyRanking(acme, { window: '3h', to, order: 'best', limit: 3 }),
      );
      const cmp = await get(
        `/api/v1/analytics/compare?a_from=${iso(fx.startMs)}&a_to=${iso(fx.startMs + HOUR)}&b_from=${iso(fx.startMs + HOUR)}&b_to=${iso(fx.startMs + 2 * HOUR)}`,
      );
      expect(cmp.status).toBe(200);
      expect(cmp.body.groups.find((g: { group: string }) => g.group === 'dc2').delta.offline_minutes).toBe(30);
      const av = await get(`/api/v1/analytics/availability?from=${iso(fx.startMs)}&to=${to}&level=site`);
      expect(
        av.body.items.map((i: { site: string; offline_minutes: number }) => [i.site, i.offline_minutes]),
      ).toEqual([
        ['dc2', 70],
        ['dc1', 0],
      ]);
    });

    it('GET /api/v1/events', async () => {
      const e = await get(`/api/v1/events?from=${iso(fx.startMs)}&severity=warning&limit=10`);
      expect(e.status).toBe(200);
      expect(e.body.source).toBe('history');
      expect(
        e.body.items
          .map((i: { kind: string }) => i.kind)
          .every((k: string) => ['hashboard_lost', 'miner_offline'].includes(k)),
      ).toBe(true);
      const recent = await get('/api/v1/events?kind=control_action');
      expect(recent.body).toMatchObject({ source: 'recent', truncated: false });
      expect(recent.body.items).toHaveLength(1);
    });
  });

  describe('answers match their response schemas exactly', () => {
    it('every read route: types right, no key the schema does not declare', async () => {
      const to = iso(fx.nowMs);
      const cases: [string, z.ZodType][] = [
        ['/api/v1/fleet/summary', FleetSummary],
        [`/api/v1/fleet/series?metric=efficiency_jth&from=now-3h&to=${to}&group_by=model`, FleetSeries],
        ['/api/v1/fleet/pools', PoolHealth],
        ['/api/v1/miners?limit=500', MinerList],
        ['/api/v1/miners/acme-dc2-02', MinerDetail],
        ['/api/v1/miners/acme-dc1-07', MinerDetail],
        [
          `/api/v1/miners/acme-dc2-09/telemetry?metrics=hashrate_ths,hashrate_nominal_ths,power_w,efficiency_jth,temp_chip_max_c,temp_board_max_c,fan_rpm_min,up_pct&from=now-3h&to=${to}&boards=true`,
          Telemetry,
        ],
        [`/api/v1/analytics/underperformers?window=3h&to=${to}`, Underperformers],
        [`/api/v1/analytics/underperformers?window=30m&to=${to}&level=board`, Underperformers],
        [`/api/v1/analytics/hot-spots?window=3h&to=${to}`, HotSpots],
        [`/api/v1/analytics/efficiency?window=3h&to=${to}`, EfficiencyRanking],
        [
          `/api/v1/analytics/compare?a_from=now-3h&a_to=now-2h&b_from=now-1h&b_to=${to}&group_by=model`,
          ComparePeriods,
        ],
        [`/api/v1/analytics/availability?from=now-3h&to=${to}`, Availability],
        [`/api/v1/events?from=now-3h&to=${to}`, EventList],
        ['/api/v1/events', EventList],
      ];
      for (const [url, schema] of cases) {
        const r = await get(url);
        expect(r.status, url).toBe(200);
        const parsed = schema.safeParse(r.body);
        expect(parsed.error?.issues ?? [], url).toEqual([]);
        expect(parsed.data, url).toEqual(r.body);
      }
    });
  });

  describe('errors', () => {
    it('malformed query strings are 400s naming the field and the expected form', async () => {
      const cases: [string, RegExp][] = [
        ['/api/v1/miners?limit=abc', /querystring\.limit: expected an integer between 1 and 500/],
        ['/api/v1/miners?limit=0', /querystring\.limit: expected an integer between 1 and 500/],
        ['/api/v1/miners?sort=speed', /querystring\.sort: expected one of id, hashrate, pct_nominal/],
        ['/api/v1/miners?status=broken', /querystring\.status/],
        ['/api/v1/miners?label=rack', /querystring\.label.*key=value/],
        ['/api/v1/miners?colour=red', /querystring\.colour: unknown parameter 'colour'/],
        ['/api/v1/miners/acme-dc1-01/telemetry?from=yesterday', /querystring\.from: expected an ISO 8601 time/],
        [
          '/api/v1/miners/acme-dc1-01/telemetry?metrics=speed',
          /querystring\.metrics: expected a comma-separated list of: hashrate_ths/,
        ],
        ['/api/v1/miners/acme-dc1-01/telemetry?boards=yes', /querystring\.boards: expected true or false/],
        ['/api/v1/miners/bad%20id', /params\.id: expected 1-128 characters/],
        [
          '/api/v1/analytics/underperformers?threshold_pct=150',
          /querystring\.threshold_pct: expected a percentage between 1 and 100/,
        ],
        ['/api/v1/analytics/hot-spots?window=1 hour', /querystring\.window: expected a duration such as 30s/],
        ['/api/v1/analytics/compare?a_from=now-2h', /querystring\.a_to/],
      ];
      for (const [url, msg] of cases) {
        const r = await get(url);
        expect(r.status, url).toBe(400);
        expect(r.body.error.code, url).toBe('invalid_argument');
        expect(r.body.error.message, url).toMatch(msg);
        expect(Array.isArray(r.body.error.details.fields), url).toBe(true);
      }
    });

    it('service-level argument errors are 400s too, with the limit in the message', async () => {
      const r = await get('/api/v1/miners/acme-dc1-01/telemetry?from=now-120d');
      expect(r.status).toBe(400);
      expect(r.body.error).toMatchObject({
        code: 'invalid_argument',
        message: 'range 120d exceeds the 90d maximum; narrow from/to',
      });
    });

    it('unknown miners and routes are 404 with the error body', async () => {
      const m = await get('/api/v1/miners/acme-dc9-99');
      expect(m.status).toBe(404);
      expect(m.body).toEqual({
        error: {
          code: 'not_found',
          // close matches by id or hostname (issue 15: an unknown value answers with close matches)
          message:
            "unknown miner 'acme-dc9-99'; did you mean 'acme-dc1-09' (acme-dc1-09.lan), 'acme-dc2-09' (acme-dc2-09.lan)? GET /api/v1/miners lists your miners",
          details: { miner: 'acme-dc9-99', candidates: ['acme-dc1-09', 'acme-dc2-09'] },
        },
      });
      const route = await get('/api/v1/nothing-here');
      expect(route.status).toBe(404);
      expect(route.body.error.code).toBe('not_found');
      const outside = await get('/nothing-here', {});
      expect(outside.status).toBe(404);
    });

    // Farm only: it swaps in an InfluxDB client that cannot reach InfluxDB.
    it.runIf(backend === 'influx-redis')('a dependency failure is a 503 without internal addresses or driver text', async () => {
      const broken = await buildTestApp(fx, {
        config: testConfig({ AUTH_PUBLIC_KEY: keys.publicPem }),
        influx: new InfluxClient({
          url: 'http://127.0.0.1:9',
          db: 'x',
          auth: 'none',
          flavour: '1',
          timeoutMs: 500,
        }),
      });
      try {
        const r = await broken.app.inject({
          method: 'GET',
          url: '/api/v1/miners/acme-dc1-01/telemetry',
          headers: auth,
        });
        expect(r.statusCode).toBe(503);
        const body = r.json();
        expect(body.error.code).toBe('unavailable');
        expect(body.error.message).toBe('InfluxDB is not reachable (query)');
        expect(r.body).not.toMatch(/127\.0\.0\.1|ECONNREFUSED|fetch failed/);
        const ready = await broken.app.inject({ method: 'GET', url: '/health/ready' });
        expect(ready.statusCode).toBe(503);
        expect(ready.json()).toMatchObject({
          status: 'not_ready',
          down: ['influxdb'],
          checks: { redis: { status: 'up' }, influxdb: { status: 'down' } },
        });
      } finally {
        await broken.app.close();
      }
    });
  });

  describe('health, metrics and docs', () => {
    it('health endpoints need no token', async () => {
      expect((await get('/health/live', {})).body).toEqual({ status: 'ok' });
      const ready = await get('/health/ready', {});
      expect(ready.status).toBe(200);
      expect(ready.body).toMatchObject({
        status: 'ready',
        down: [],
        checks:
          backend === 'influx-redis' ? { redis: { status: 'up' }, influxdb: { status: 'up' } } : { sqlite: { status: 'up' } },
      });
    });

    it('/metrics exposes request durations by route template and cache counters', async () => {
      await get('/api/v1/fleet/summary');
      await get('/api/v1/miners/acme-dc1-02');
      const m = await get('/metrics', {});
      expect(m.status).toBe(200);
      expect(String(m.headers['content-type'])).toMatch(/text\/plain/);
      const text = m.body as string;
      expect(text).toMatch(
        /bosfleet_api_request_duration_seconds_bucket\{le="0\.05",method="GET",route="\/api\/v1\/fleet\/summary",status_code="200"\}/,
      );
      expect(text).toMatch(
        /bosfleet_api_requests_total\{method="GET",route="\/api\/v1\/miners\/:id",status_code="200"\} \d+/,
      );
      expect(text).toMatch(/bosfleet_api_cache_requests_total\{cache="summary",result="(hit|miss)"\}/);
      expect(text).toMatch(/bosfleet_api_process_/);
    });

    it('OpenAPI describes every route with bearer auth, and Swagger UI is served', async () => {
      const doc = (await get('/docs/json', {})).body;
      expect(doc.openapi).toBe('3.1.0');
      expect(doc.components.securitySchemes.bearerAuth).toEqual({
        type: 'http',
        scheme: 'bearer',
        bearerFormat: 'JWT',
      });
      expect(doc.security).toEqual([{ bearerAuth: [] }]);
      for (const path of [
        '/api/v1/fleet/summary',
        '/api/v1/fleet/series',
        '/api/v1/fleet/pools',
        '/api/v1/miners',
        '/api/v1/miners/{id}',
        '/api/v1/miners/{id}/telemetry',
        '/api/v1/analytics/underperformers',
        '/api/v1/analytics/hot-spots',
        '/api/v1/analytics/efficiency',
        '/api/v1/analytics/compare',
        '/api/v1/analytics/availability',
        '/api/v1/energy/profitability',
        '/api/v1/energy/losing-miners',
        '/api/v1/energy/break-even',
        '/api/v1/events',
        '/health/live',
        '/health/ready',
        '/metrics',
      ]) {
        expect(doc.paths[path], path).toBeDefined();
      }
      expect(doc.paths['/health/ready'].get.security).toEqual([]);
      const list = doc.paths['/api/v1/miners'].get;
      expect(list.parameters.map((p: { name: string }) => p.name)).toEqual(
        expect.arrayContaining(['status', 'site', 'sort', 'limit', 'cursor', 'label', 'q']),
      );
      expect(list.responses['200'].content['application/json'].schema.properties.items).toBeDefined();
      expect(list.responses['401']).toBeDefined();
      const ui = await t.app.inject({ method: 'GET', url: '/docs/' });
      expect(ui.statusCode).toBe(200);
      expect(ui.body).toMatch(/swagger/i);
    });
  });
});
