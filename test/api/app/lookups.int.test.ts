import type { Client } from '@modelcontextprotocol/client';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { Caller } from '../../../services/context.ts';
import { seedFleet, type FleetFixture } from '../../services/query/fleet-fixture.ts';
import { buildTestApp, testConfig, testKeys, type TestApp } from './helpers.ts';
import { connectReadOnlyMcp } from '../../mcp/helpers.ts';

// Filters and lookups accept what users type (issue 15): a model by its key (s21) or full name, a
// miner by id, hostname or IP in any case; an unknown value answers with close matches. REST and
// MCP go through one resolver. Real app and MCP client over the fixture fleet (real InfluxDB/Redis).

const acme: Caller = { sub: 'alice', tenant: 'acme', roles: ['viewer'] };
let fx: FleetFixture;
let t: TestApp;
let auth: { authorization: string };
let client: Client;

beforeAll(async () => {
  fx = await seedFleet({ influxUrl: inject('influxUrl'), redisUrl: inject('redisUrl'), historyMinutes: 60 });
  const keys = await testKeys();
  t = await buildTestApp(fx, { config: testConfig({ AUTH_PUBLIC_KEY: keys.publicPem }) });
  auth = { authorization: `Bearer ${await keys.token({ tenant: 'acme', roles: ['viewer'] })}` };
  client = await connectReadOnlyMcp(t, acme);
});

afterAll(async () => {
  await client?.close();
  await t?.app.close();
  await fx?.cleanup();
});

async function get<T>(url: string): Promise<{ status: number; body: T }> {
  const r = await t.app.inject({ method: 'GET', url, headers: auth });
  return { status: r.statusCode, body: r.json<T>() };
}

async function call(name: string, args: Record<string, unknown>) {
  const r = await client.callTool({ name, arguments: args });
  const text = (r.content as { type: string; text?: string }[]).map(c => c.text ?? '').join('\n');
  return { isError: r.isError === true, text, s: r.structuredContent as Record<string, unknown> | undefined };
}

const s21s = () => fx.tenantMiners('acme').filter(m => m.model === 'Antminer S21').length;

describe('REST', () => {
  it('model=s21 (the key) lists the same miners as the full name', async () => {
    const full = await get<{ total: number }>('/api/v1/miners?model=Antminer%20S21&limit=500');
    const key = await get<{ total: number }>('/api/v1/miners?model=s21&limit=500');
    const upper = await get<{ total: number }>('/api/v1/miners?model=S21&limit=500');
    expect(full.body.total).toBe(s21s());
    expect(key.body.total).toBe(s21s());
    expect(upper.body.total).toBe(s21s());
  });

  it('fleet series model=s21 is the series of the full name', async () => {
    type S = { series: { points: { value: number | null }[] }[] };
    const full = await get<S>('/api/v1/fleet/series?metric=hashrate_ths&from=now-1h&model=Antminer%20S21');
    const key = await get<S>('/api/v1/fleet/series?metric=hashrate_ths&from=now-1h&model=s21');
    expect(full.body.series[0]!.points.some(p => p.value !== null)).toBe(true);
    expect(key.body).toEqual(full.body);
  });

  it('an unknown model answers with close matches', async () => {
    const r = await get<{ total: number; hint: string }>('/api/v1/miners?model=s2l');
    expect(r.body.total).toBe(0);
    expect(r.body.hint).toMatch(/model 's2l' matches no model of this fleet; did you mean 'Antminer S21'/);
  });

  for (const [what, refOf] of [
    ['hostname', (m: { hostname: string }) => m.hostname],
    ['hostname in capitals', (m: { hostname: string }) => m.hostname.toUpperCase()],
    ['id in capitals', (m: { id: string }) => m.id.toUpperCase()],
    ['IP', (m: { address: string }) => m.address.split(':')[0]!],
  ] as const) {
    it(`/miners/{${what}} and its telemetry find the miner`, async () => {
      const m = fx.tenantMiners('acme')[0]!;
      const ref = refOf(m);
      const r = await get<{ id: string }>(`/api/v1/miners/${ref}`);
      expect(r.status).toBe(200);
      expect(r.body.id).toBe(m.id);
      const tel = await get<{ miner: string }>(`/api/v1/miners/${ref}/telemetry?metrics=hashrate_ths`);
      expect(tel.status).toBe(200);
    });
  }

  it('events?miner= takes a hostname like an id', async () => {
    const id = fx.events.find(e => e.tenant === 'acme')!.miner!;
    const host = fx.miner(id).hostname;
    type E = { items: { miner: string }[] };
    const byId = await get<E>(`/api/v1/events?miner=${id}&from=now-2h`);
    const byHost = await get<E>(`/api/v1/events?miner=${host.toUpperCase()}&from=now-2h`);
    expect(byId.body.items.length).toBeGreaterThan(0);
    expect(byHost.body).toEqual(byId.body);
  });

  it('an unknown miner is 404 with close matches', async () => {
    const r = await get<{ error: { message: string } }>('/api/v1/miners/acme-dc1-0x');
    expect(r.status).toBe(404);
    expect(r.body.error.message).toMatch(/unknown miner 'acme-dc1-0x'; did you mean 'acme-dc1-0\d'/);
  });
});

describe('MCP', () => {
  it('list_miners model=s21 matches the key', async () => {
    const r = await call('list_miners', { model: 's21', limit: 100 });
    expect(r.isError, r.text).toBe(false);
    expect(r.s!.total).toBe(s21s());
  });

  it('get_miner takes a hostname or an IP', async () => {
    const m = fx.tenantMiners('acme')[0]!;
    for (const ref of [m.hostname.toUpperCase(), m.address.split(':')[0]!]) {
      const r = await call('get_miner', { miner: ref });
      expect(r.isError, r.text).toBe(false);
      expect(r.s!.id).toBe(m.id);
    }
  });

  it('query_telemetry takes a hostname', async () => {
    const m = fx.tenantMiners('acme')[0]!;
    const r = await call('query_telemetry', { miners: [m.hostname.toUpperCase()], metrics: ['hashrate_ths'] });
    expect(r.isError, r.text).toBe(false);
    expect(r.text).toContain(m.id);
    const series = (r.s as { series: { miner: string; hostname: string | null }[] }).series;
    expect(series[0]).toMatchObject({ miner: m.id, hostname: m.hostname });
  });
});
