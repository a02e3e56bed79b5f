import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { FleetError } from '../../../core/errors.ts';
import { seedFleet, type FarmFleetFixture } from '../../services/query/fleet-fixture.ts';
import { buildTestApp, testConfig, testKeys, type TestApp } from './helpers.ts';

// Inputs that used to reach InfluxDB and come back as 500s (issue 15, security 3): control
// characters in tag filters and steps far beyond the range. Real app over real InfluxDB/Redis.

let fx: FarmFleetFixture;
let t: TestApp;
let auth: { authorization: string };

beforeAll(async () => {
  fx = await seedFleet({ influxUrl: inject('influxUrl'), redisUrl: inject('redisUrl'), historyMinutes: 60 });
  const keys = await testKeys();
  t = await buildTestApp(fx, { config: testConfig({ AUTH_PUBLIC_KEY: keys.publicPem }) });
  auth = { authorization: `Bearer ${await keys.token({ tenant: 'acme', roles: ['viewer'] })}` };
});

afterAll(async () => {
  await t?.app.close();
  await fx?.cleanup();
});

async function get(url: string): Promise<{ status: number; body: { error: { code: string; message: string } } }> {
  const r = await t.app.inject({ method: 'GET', url, headers: auth });
  return { status: r.statusCode, body: r.json() };
}

describe('tag filters with control characters are 400s naming the field', () => {
  for (const ch of ['%0A', '%0D', '%00']) {
    for (const url of [
      `/api/v1/fleet/series?model=x${ch}DROP`,
      `/api/v1/fleet/series?site=dc1${ch}DROP`,
      `/api/v1/miners?model=x${ch}DROP`,
      `/api/v1/fleet/series?group_by=model&model=Antminer${ch}`,
    ]) {
      it(url, async () => {
        const r = await get(url);
        expect(r.status).toBe(400);
        expect(r.body.error.code).toBe('invalid_argument');
        expect(r.body.error.message).toMatch(/querystring\.(model|site)/);
      });
    }
  }
});

describe('steps beyond the range are 400s naming step', () => {
  for (const url of [
    '/api/v1/fleet/series?step=9999999h',
    '/api/v1/fleet/series?step=999999999w',
    '/api/v1/fleet/series?from=now-1h&step=2h',
    '/api/v1/miners/acme-dc1-01/telemetry?step=9999999h',
    '/api/v1/miners/acme-dc1-01/telemetry?step=999999999w',
  ]) {
    it(url, async () => {
      const r = await get(url);
      expect(r.status).toBe(400);
      expect(r.body.error.code).toBe('invalid_argument');
      expect(r.body.error.message).toMatch(/step/);
    });
  }

  it('a step equal to the range is one bucket, not an error', async () => {
    const r = await t.app.inject({
      method: 'GET',
      url: '/api/v1/fleet/series?from=now-1h&step=1h',
      headers: auth,
    });
    expect(r.statusCode).toBe(200);
  });
});

describe('a query InfluxDB refuses is a typed error, never internal', () => {
  it('HTTP 400 (syntax) and statement errors map to invalid_argument without the raw store text', async () => {
    for (const q of ['SELECT FROM WHERE', 'SELECT "x" FROM "miner" GROUP BY time(1m)', 'SELECT mean("x") FROM "miner" GROUP BY time(35999996400s)']) {
      const err = await fx.influx.query(q).then(
        () => null,
        (e: unknown) => e,
      );
      expect(err, q).toBeInstanceOf(FleetError);
      expect((err as FleetError).code, q).toBe('invalid_argument');
      expect(JSON.stringify((err as FleetError).details ?? {}), q).not.toMatch(/error parsing|SELECT/);
    }
  });
});
