import type { Client } from '@modelcontextprotocol/client';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { Caller } from '../../../services/context.ts';
import { seedFleet, type FleetFixture } from '../../services/query/fleet-fixture.ts';
import { buildTestApp, testConfig, testKeys, type TestApp } from './helpers.ts';
import { connectReadOnlyMcp } from '../../mcp/helpers.ts';

// Times outside any plausible range (27,000 years back, centuries ahead) used to reach InfluxDB
// and come back as 500 / MCP internal (contract fuzz finding, issue 15). Every time input is
// bounded where it is parsed, so each is a 400 / invalid_argument naming the field. Real app and
// real MCP client over the fixture fleet in real InfluxDB and Redis.

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

describe('REST: times out of range are 400s naming the field', () => {
  for (const [url, field] of [
    ['/api/v1/analytics/efficiency?window=1h&to=now-9999999d&order=worst', 'to'],
    ['/api/v1/analytics/hot-spots?to=now-9999999d', 'to'],
    ['/api/v1/analytics/underperformers?to=now-999999999w', 'to'],
    ['/api/v1/analytics/availability?from=now-9999999d', 'from'],
    ['/api/v1/energy/profitability?to=now-9999999d&energy_price_per_mwh=1&hashprice_per_ths_day=1', 'to'],
    ['/api/v1/energy/losing-miners?from=now-9999999d&energy_price_per_mwh=1&hashprice_per_ths_day=1', 'from'],
    ['/api/v1/events?from=now-9999999d', 'from'],
    ['/api/v1/fleet/series?from=now-9999999d&to=now-9999998d', 'to'],
    ['/api/v1/miners/acme-dc1-01/telemetry?from=now-9999999d', 'from'],
    ['/api/v1/analytics/hot-spots?to=9999-01-01T00:00:00Z', 'to'],
    ['/api/v1/events?to=99999999999999', 'to'],
  ] as const) {
    it(url, async () => {
      const r = await t.app.inject({ method: 'GET', url, headers: auth });
      expect(r.statusCode, r.body).toBe(400);
      const body = r.json<{ error: { code: string; message: string } }>();
      expect(body.error.code).toBe('invalid_argument');
      expect(body.error.message).toMatch(new RegExp(`\\b${field}\\b`));
      expect(body.error.message).toMatch(/2009-01-03/);
    });
  }

  it('a time inside the range still answers', async () => {
    const r = await t.app.inject({ method: 'GET', url: '/api/v1/analytics/hot-spots?to=now-1h', headers: auth });
    expect(r.statusCode, r.body).toBe(200);
  });
});

async function call(name: string, args: Record<string, unknown>): Promise<{ isError: boolean; text: string }> {
  const r = await client.callTool({ name, arguments: args });
  const text = (r.content as { type: string; text?: string }[]).map(c => c.text ?? '').join('\n');
  return { isError: r.isError === true, text };
}

describe('MCP: times out of range are invalid_argument naming the argument', () => {
  for (const [name, args, field] of [
    ['get_events', { from: 'now-9999999d' }, 'from'],
    ['find_underperformers', { to: 'now-9999999d' }, 'to'],
    ['find_hot_spots', { to: 'now-9999999d' }, 'to'],
    ['efficiency_report', { window: '1h', to: 'now-9999999d' }, 'to'],
    ['availability_report', { to: 'now-9999999d' }, 'to'],
    ['query_telemetry', { miners: ['acme-dc1-01'], from: 'now-9999999d' }, 'from'],
  ] as const) {
    it(`${name} ${JSON.stringify(args)}`, async () => {
      const r = await call(name, args);
      expect(r.isError).toBe(true);
      expect(r.text).toMatch(/invalid_argument/);
      expect(r.text).toMatch(new RegExp(`\\b${field}\\b`));
      expect(r.text).not.toMatch(/internal/i);
    });
  }
});

describe('MCP availability_report: window is checked like the other analytics tools', () => {
  it('window=9999999h names window and the 90d maximum, not from', async () => {
    const r = await call('availability_report', { window: '9999999h' });
    expect(r.isError).toBe(true);
    expect(r.text).toMatch(/^invalid_argument: window\b/);
    expect(r.text).toMatch(/90d/);
  });

  it('window=91d is over the maximum', async () => {
    const r = await call('availability_report', { window: '91d' });
    expect(r.isError).toBe(true);
    expect(r.text).toMatch(/window .*90d/);
  });

  it('window=2h answers', async () => {
    const r = await call('availability_report', { window: '2h' });
    expect(r.isError, r.text).toBe(false);
  });
});
