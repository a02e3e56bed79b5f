import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { createMcpHandler } from '@modelcontextprotocol/server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Caller } from '../../../services/context.ts';
import type { ControlPlane } from '../../../services/control/index.ts';
import { FleetQuery } from '../../../services/query/fleet-query.ts';
import { buildMcpServer } from '../../../mcp/server.ts';
import { buildTestApp, testConfig, testKeys, type TestApp } from '../../api/app/helpers.ts';
import type { InventoryMiner } from '../../../collector/inventory/schema.ts';
import { BACKENDS } from '../../store/backends.ts';
import { POLL_MS, openFleetFixture, type FleetFixture } from './fleet-fixture.ts';

// Defaults a new user meets (issue 15, "defaults that fit"): telemetry and fleet series without
// a step answer a chart's worth of points, and a tenant whose miners are registered but not yet
// polled is told the first poll is due rather than "no miners". On both storage backends.

const MIN = 60_000;
describe.each(BACKENDS)('%s', backend => {
  let fx: FleetFixture;
  let fq: FleetQuery;
  let t: TestApp;
  let client: Client;
  const acme: Caller = { sub: 'alice', tenant: 'acme', roles: ['viewer'] };
  const fresh: Caller = { sub: 'fred', tenant: 'fresh', roles: ['viewer'] };
  const empty: Caller = { sub: 'eve', tenant: 'nobody', roles: ['viewer'] };

  beforeAll(async () => {
    fx = await openFleetFixture(backend, { historyMinutes: 12 * 60, heartbeat: true });
    fq = new FleetQuery({ store: fx.store }, { pollIntervalMs: POLL_MS, now: () => fx.nowMs });
    // what the collector's inventory holds for a tenant registered a moment ago, before its first poll
    const registered = ['fresh-01', 'fresh-02'].map(
      (id): InventoryMiner => ({ id, host: `127.91.0.${id.slice(-1)}`, port: 50051, tenant: 'fresh', site: 'dc9', credentials: 'default', labels: {}, source: 'api' }),
    );
    await fx.store.inventory.writeResolved(registered, []);
    t = await buildTestApp(fx, { config: testConfig({ AUTH_PUBLIC_KEY: (await testKeys()).publicPem }) });
    const deps = { fleetQuery: t.fleetQuery, infra: t.infra, plane: {} as ControlPlane };
    const handler = createMcpHandler(() => buildMcpServer(deps, fresh, { log: t.infra.log }));
    client = new Client({ name: 'bos-fleet-test', version: '1.0.0' }, { versionNegotiation: { mode: 'auto' } });
    await client.connect(
      new StreamableHTTPClientTransport(new URL('http://mcp.test/mcp'), {
        fetch: (url, init) => handler.fetch(new Request(url, init)),
      }),
    );
  }, 120_000);

  afterAll(async () => {
    await client?.close();
    await t?.app.close();
    await fq?.close();
    await fx?.cleanup();
  });

  describe('telemetry and fleet series without a step', () => {
    it("one miner's last hour is a chart's worth of points, each holding polls", async () => {
      const t = await fq.telemetry(acme, 'acme-dc1-01', { metrics: ['hashrate_ths'] });
      expect(t.points.length).toBeGreaterThanOrEqual(30);
      expect(t.points.length).toBeLessThanOrEqual(150);
      expect(t.step_s * 1_000).toBeGreaterThanOrEqual(2 * POLL_MS);
    });

    for (const hours of [1, 6, 12, 24 * 7]) {
      it(`a ${hours} h range gives at most 150 points`, async () => {
        const t = await fq.telemetry(acme, 'acme-dc1-01', { metrics: ['hashrate_ths'], from: fx.nowMs - hours * 60 * MIN, to: fx.nowMs });
        expect(t.points.length).toBeLessThanOrEqual(150);
        const s = await fq.fleetSeries(acme, { metric: 'hashrate_ths', from: fx.nowMs - hours * 60 * MIN, to: fx.nowMs });
        expect(s.series[0]!.points.length).toBeLessThanOrEqual(150);
      });
    }

    it('an explicit step is still honoured', async () => {
      const t = await fq.telemetry(acme, 'acme-dc1-01', { metrics: ['hashrate_ths'], step: '10s' });
      expect(t.points).toHaveLength(360);
    });
  });

  describe('summary before the first poll', () => {
    it('says the first poll is due, with when, not "no miners"', async () => {
      const s = await fq.summary(fresh);
      expect(s.state).toBe('awaiting_first_poll');
      expect(s.registered_miners).toBe(2);
      expect(s.first_poll_due).toBe(new Date(fx.nowMs - 2_000 + POLL_MS).toISOString());
      expect(s.hint).toMatch(/2 miners are registered; the first poll is due/);
      expect(s.hint).not.toMatch(/no miners/);
    });

    it('a tenant with nothing registered says so', async () => {
      const s = await fq.summary(empty);
      expect(s.state).toBe('no_miners');
      expect(s.hint).toMatch(/no miners/);
    });

    it('a polled fleet is ok', async () => {
      const s = await fq.summary(acme);
      expect(s.state).toBe('ok');
    });

    it('MCP fleet_overview says the same', async () => {
      const r = await client.callTool({ name: 'fleet_overview', arguments: {} });
      const text = (r.content as { type: string; text?: string }[]).map(c => c.text ?? '').join('\n');
      const o = r.structuredContent as { state: string; first_poll_due: string | null };
      expect(o.state).toBe('awaiting_first_poll');
      expect(o.first_poll_due).toBe(new Date(fx.nowMs - 2_000 + POLL_MS).toISOString());
      expect(text).toMatch(/2 miners registered, first poll due by/);
      expect(text).not.toMatch(/STALE/);
    });
  });
});
