// Profitability through its transports, on both storage backends: REST /api/v1/energy/*, the MCP
// tools and prompt through a real MCP client over Streamable HTTP, and the console's Energy page,
// all over the simulated fleet of test/services/energy/profit-fixture.ts. Expected figures come
// from the simulator's truth; one tenant never sees the other's miners.
import type { FastifyInstance } from 'fastify';
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../api/app.ts';
import { mcpRoutes } from '../../api/routes/mcp.ts';
import { consoleRoutes } from '../../console/plugin.ts';
import { SESSION_COOKIE } from '../../console/auth.ts';
import { ConsoleSessions } from '../../console/sessions.ts';
import { CredentialStore } from '../../collector/credentials.ts';
import { MinerClientPool } from '../../collector/miner-client-pool.ts';
import { silentLogger } from '../../runtime/logger.ts';
import type { ApiInfra } from '../../services/context.ts';
import { createControlPlane } from '../../services/control/index.ts';
import { FleetQuery } from '../../services/query/fleet-query.ts';
import { BACKENDS } from '../store/backends.ts';
import { POLL_MS, openProfitFixture, type ProfitFixture, type TruthMiner } from '../services/energy/profit-fixture.ts';
import { testConfig, testKeys, type TestKeys } from './app/helpers.ts';

const HASHPRICE = 0.05;
const PRICE = 60;
const near = (actual: number, expected: number, rel = 0.005): void => {
  expect(Math.abs(actual - expected), `${actual} vs ${expected}`).toBeLessThanOrEqual(Math.abs(expected) * rel + 1e-6);
};
const revenue = (ms: TruthMiner[]): number => ms.reduce((a, m) => a + (m.hashrate_ghs / 1000) * HASHPRICE / 24, 0);
const cost = (ms: TruthMiner[], price = PRICE): number => ms.reduce((a, m) => a + (m.power_w / 1e6) * price, 0);
const loses = (m: TruthMiner, price: number): boolean => (m.hashrate_ghs / 1000) * HASHPRICE / 24 < (m.power_w / 1e6) * price;

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

describe.each(BACKENDS)('energy transports (%s store)', backend => {
  let fx: ProfitFixture;
  let fq: FleetQuery;
  let app: FastifyInstance;
  let base: string;
  let keys: TestKeys;
  let range: string;
  let acmeMiners: TruthMiner[];
  const clients: Client[] = [];

  const get = async (tenant: string, path: string): Promise<{ status: number; body: Json }> => {
    const r = await fetch(`${base}${path}`, { headers: { authorization: `Bearer ${await keys.token({ tenant, roles: ['viewer'] })}` } });
    return { status: r.status, body: (await r.json()) as Json };
  };
  const mcp = async (tenant: string): Promise<Client> => {
    const client = new Client({ name: 'energy-test', version: '1.0.0' }, { versionNegotiation: { mode: 'auto' } });
    await client.connect(
      new StreamableHTTPClientTransport(new URL(`${base}/mcp`), {
        requestInit: { headers: { authorization: `Bearer ${await keys.token({ tenant, roles: ['viewer'] })}` } },
      }),
    );
    clients.push(client);
    return client;
  };
  const tool = async (c: Client, name: string, args: Record<string, unknown>): Promise<{ s: Json; text: string; isError: boolean }> => {
    const r = (await c.callTool({ name, arguments: args })) as { structuredContent?: Json; content: { text?: string }[]; isError?: boolean };
    return { s: r.structuredContent ?? {}, text: r.content.map(x => x.text ?? '').join('\n'), isError: r.isError === true };
  };

  beforeAll(async () => {
    fx = await openProfitFixture(backend);
    keys = await testKeys('ES256');
    const config = testConfig({
      AUTH_PUBLIC_KEY: keys.publicPem,
      MCP_ALLOWED_HOSTS: '127.0.0.1,localhost',
      HASHPRICE_SOURCE: JSON.stringify({ kind: 'fixed', value: HASHPRICE, currency: 'USD' }),
      ENERGY_PRICE_SOURCE: JSON.stringify({ kind: 'fixed', price_per_mwh: PRICE, currency: 'USD' }),
    });
    const credentials = new CredentialStore({});
    const infra: ApiInfra = { config, log: silentLogger(), store: fx.store, minerPool: new MinerClientPool(credentials), credentials };
    fq = new FleetQuery({ store: fx.store }, { pollIntervalMs: POLL_MS, now: () => fx.nowMs });
    app = await buildApp({ infra, fleetQuery: fq });
    await app.register(mcpRoutes, { fleetQuery: fq, plane: createControlPlane(infra) });
    await app.register(consoleRoutes, { fleetQuery: fq });
    base = await app.listen({ host: '127.0.0.1', port: 0 });
    range = `from=${new Date(fx.startMs).toISOString()}&to=${new Date(fx.lastClosedMs).toISOString()}`;
    acmeMiners = fx.truth.filter(m => m.tenant === 'acme');
  }, 120_000);

  afterAll(async () => {
    for (const c of clients) await c.close().catch(() => undefined);
    await app?.close();
    await fq?.close();
    await fx?.close();
  });

  describe('REST', () => {
    it('profitability by model over a range equals the truth at the configured prices', async () => {
      const r = await get('acme', `/api/v1/energy/profitability?${range}&group_by=model`);
      expect(r.status, JSON.stringify(r.body)).toBe(200);
      expect(r.body.prices).toMatchObject({ currency: 'USD', hashprice_per_ths_day: { value: HASHPRICE, source: 'fixed' }, energy_price_per_mwh: { value: PRICE } });
      expect(r.body.fleet.miners).toBe(acmeMiners.length);
      near(r.body.fleet.revenue, revenue(acmeMiners));
      near(r.body.fleet.power_cost, cost(acmeMiners));
      for (const g of r.body.groups as Json[]) {
        const here = acmeMiners.filter(m => m.model === g.model);
        expect(g.miners, String(g.model)).toBe(here.length);
        near(g.revenue, revenue(here));
      }
    });

    it('losing miners at a given price, and break-even per model', async () => {
      const r = await get('acme', `/api/v1/energy/losing-miners?${range}&energy_price_per_mwh=40`);
      expect(r.status, JSON.stringify(r.body)).toBe(200);
      const expected = acmeMiners.filter(m => loses(m, 40)).map(m => m.id).sort();
      expect(expected.length).toBeGreaterThan(0);
      expect(expected.length).toBeLessThan(acmeMiners.length);
      expect((r.body.items as Json[]).map(i => i.miner).sort()).toEqual(expected);
      const be = await get('acme', `/api/v1/energy/break-even?${range}&hashprice_per_ths_day=0.1`);
      expect(be.status).toBe(200);
      for (const m of be.body.models as Json[]) {
        const here = acmeMiners.filter(t => t.model === m.model);
        const j = here.reduce((a, t) => a + t.power_w, 0) / (here.reduce((a, t) => a + t.hashrate_ghs, 0) / 1000);
        near(m.break_even_price_per_mwh, (0.1 * 1e6) / (24 * j));
      }
      expect(be.body.prices.hashprice_per_ths_day.source).toBe('request');
    });

    it('bad parameters are a 400 naming them; unknown parameters are refused', async () => {
      const a = await get('acme', `/api/v1/energy/profitability?group_by=rack`);
      expect(a.status).toBe(400);
      expect(JSON.stringify(a.body)).toMatch(/group_by/);
      const b = await get('acme', `/api/v1/energy/losing-miners?energy_price_per_mwh=cheap`);
      expect(b.status).toBe(400);
      expect(JSON.stringify(b.body)).toMatch(/energy_price_per_mwh/);
      expect((await get('acme', `/api/v1/energy/break-even?price=1`)).status).toBe(400);
    });

    it("a tenant sees only its own miners: another tenant's miner is not found", async () => {
      const theirs = fx.truth.filter(m => m.tenant === 'globex');
      const r = await get('globex', `/api/v1/energy/profitability?${range}&group_by=miner`);
      expect(r.status).toBe(200);
      expect((r.body.groups as Json[]).map(g => g.key).sort()).toEqual(theirs.map(m => m.id).sort());
      const other = await get('globex', `/api/v1/energy/profitability?${range}&miner=${acmeMiners[0]!.id}`);
      expect(other.status).toBe(404);
      const losing = await get('globex', `/api/v1/energy/losing-miners?${range}&energy_price_per_mwh=100000`);
      expect((losing.body.items as Json[]).every(i => theirs.some(m => m.id === i.miner))).toBe(true);
    });
  });

  describe('MCP', () => {
    it('the tools answer the same figures through a real MCP client, tenant-scoped', async () => {
      const c = await mcp('acme');
      const names = (await c.listTools()).tools.map(t => t.name);
      expect(names).toEqual(expect.arrayContaining(['get_profitability', 'find_losing_miners', 'get_break_even']));
      const from = new Date(fx.startMs).toISOString();
      const to = new Date(fx.lastClosedMs).toISOString();
      const p = await tool(c, 'get_profitability', { from, to });
      expect(p.isError, p.text).toBe(false);
      near(p.s.fleet.revenue as number, revenue(acmeMiners));
      near(p.s.fleet.power_cost as number, cost(acmeMiners));
      expect(p.text).toMatch(/margin/);
      const l = await tool(c, 'find_losing_miners', { from, to, energy_price_per_mwh: 40 });
      expect((l.s.items as Json[]).map(i => i.miner).sort()).toEqual(acmeMiners.filter(m => loses(m, 40)).map(m => m.id).sort());
      const b = await tool(c, 'get_break_even', { from, to });
      expect((b.s.models as Json[]).length).toBe(new Set(acmeMiners.map(m => m.model)).size);
      const g = await mcp('globex');
      const gp = await tool(g, 'get_profitability', { from, to, group_by: 'miner' });
      expect((gp.s.groups as Json[]).every(x => fx.truth.find(m => m.id === x.key)?.tenant === 'globex')).toBe(true);
      const miss = await tool(g, 'get_profitability', { from, to, miner: acmeMiners[0]!.id });
      expect(miss.isError).toBe(true);
    });

    it("the prompt plans tonight's curtailment with the profitability and curtailment tools, dry run first", async () => {
      const c = await mcp('acme');
      const { prompts } = await c.listPrompts();
      expect(prompts.map(p => p.name)).toContain('plan_tonight_curtailment');
      const p = await c.getPrompt({ name: 'plan_tonight_curtailment', arguments: { site: 'site-1' } });
      const text = (p.messages[0]!.content as { text: string }).text;
      for (const t of ['get_profitability', 'find_losing_miners', 'list_curtailment_policies', 'plan_curtailment']) expect(text).toContain(t);
      expect(text).toMatch(/dry run/);
      expect(text).toMatch(/site=site-1/);
    });
  });

  describe('console', () => {
    it('the Energy page shows fleet and site margin, the prices with their age, and links losing miners to their pages', async () => {
      const sessions = new ConsoleSessions(fx.store.sessions);
      const { id } = await sessions.create({ sub: 'alice', tenant: 'acme', roles: ['viewer'] }, Date.now() + 3_600_000);
      const r = await fetch(`${base}/energy?range=1h`, { headers: { cookie: `${SESSION_COOKIE}=${id}` } });
      expect(r.status).toBe(200);
      const page = await r.text();
      expect(page).toContain('href="/energy"');
      expect(page).toMatch(/data-testid="prices"[^]*0\.0500 USD\/TH\/s\/day[^]*as of/);
      expect(page).toMatch(/data-testid="margin"/);
      for (const site of new Set(acmeMiners.map(m => m.site))) expect(page).toContain(`href="/miners?site=${site}"`);
      // at the configured 60 USD/MWh the least efficient model loses money
      const losing = acmeMiners.filter(m => loses(m, PRICE));
      expect(losing.length).toBeGreaterThan(0);
      for (const m of losing) expect(page).toContain(`href="/miners/${m.id}"`);
      for (const m of fx.truth.filter(t => t.tenant === 'globex')) expect(page).not.toContain(m.id);
    });
  });
});
