import type { Client } from '@modelcontextprotocol/client';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { Caller } from '../../services/context.ts';
import { buildTestApp, testConfig, testKeys, type TestApp } from '../api/app/helpers.ts';
import { seedFleet, type FleetFixture } from '../services/query/fleet-fixture.ts';
import { connectReadOnlyMcp } from './helpers.ts';

// query_telemetry with inputs that used to reach InfluxDB and fail as internal errors (issue 15,
// security 3). Real MCP client and server in-process over the fixture fleet in real InfluxDB and
// Redis; the control plane is not built (query_telemetry never touches it).

const acme: Caller = { sub: 'alice', tenant: 'acme', roles: ['viewer'] };
let fx: FleetFixture;
let t: TestApp;
let client: Client;

beforeAll(async () => {
  fx = await seedFleet({ influxUrl: inject('influxUrl'), redisUrl: inject('redisUrl'), historyMinutes: 60 });
  t = await buildTestApp(fx, { config: testConfig({ AUTH_PUBLIC_KEY: (await testKeys()).publicPem }) });
  client = await connectReadOnlyMcp(t, acme);
});

afterAll(async () => {
  await client?.close();
  await t?.app.close();
  await fx?.cleanup();
});

async function call(args: Record<string, unknown>): Promise<{ isError: boolean; text: string }> {
  const r = await client.callTool({ name: 'query_telemetry', arguments: args });
  const text = (r.content as { type: string; text?: string }[]).map(c => c.text ?? '').join('\n');
  return { isError: r.isError === true, text };
}

describe('query_telemetry refuses hostile arguments naming the argument', () => {
  for (const [args, field] of [
    [{ model: 'x\nDROP' }, 'model'],
    [{ model: 'x\r' }, 'model'],
    [{ model: 'x\u0000' }, 'model'],
    [{ step: '9999999h' }, 'step'],
    [{ step: '999999999w' }, 'step'],
    [{ miners: ['acme-dc1-01'], step: '9999999h' }, 'step'],
    [{ miners: ['acme-dc1-01'], window: '1h', step: '2h' }, 'step'],
  ] as const) {
    it(JSON.stringify(args), async () => {
      const r = await call(args);
      expect(r.isError).toBe(true);
      expect(r.text).toMatch(new RegExp(field));
      expect(r.text).not.toMatch(/internal error/i);
    });
  }

  it('a valid call still answers', async () => {
    const r = await call({ miners: ['acme-dc1-01'], window: '1h', step: '5m' });
    expect(r.isError, r.text).toBe(false);
  });
});
