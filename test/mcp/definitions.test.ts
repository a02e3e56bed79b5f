import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { createMcpHandler } from '@modelcontextprotocol/server';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import type { Caller } from '../../services/context.ts';
import { ConfigError } from '../../runtime/config-loader.ts';
import { silentLogger } from '../../runtime/logger.ts';
import { redisKeys } from '../../store/influx-redis/redis-keys.ts';
import { categoriesOf, loadMcpConfig } from '../../mcp/config.ts';
import { defineTool, mcpMessage, type McpDeps } from '../../mcp/define-tool.ts';
import { closeMatches, editDistance } from '../../mcp/lookup.ts';
import { ALL_TOOLS, buildMcpServer, enabledTools } from '../../mcp/server.ts';
import { DEFAULT_ANSWER_BYTES, answerBytes, fitList, tailText } from '../../mcp/size-budget.ts';
import { pickStep } from '../../mcp/tools/telemetry.ts';

// Unit tests: tool definitions, registration by role / read-only / category, the size of the
// tool list, the answer-size helpers, the id matcher and the stdio configuration. No services.

const out = z.object({ ok: z.boolean() });
const base = {
  name: 'get_thing',
  title: 'Get thing',
  description: 'Returns the thing.',
  access: 'read' as const,
  category: 'fleet' as const,
  input: z.strictObject({ id: z.string().describe('Which thing.') }),
  output: out,
  run: async () => ({ structured: { ok: true }, summary: 'ok' }),
};

describe('defineTool', () => {
  it('refuses broken definitions at start-up', () => {
    expect(() => defineTool({ ...base, name: 'GetThing' })).toThrow(/snake_case/);
    expect(() => defineTool({ ...base, description: `${'x'.repeat(401)}` })).toThrow(/1-2 sentences/);
    expect(() => defineTool({ ...base, input: z.object({ id: z.string().describe('x') }) })).toThrow(/strictObject/);
    expect(() => defineTool({ ...base, input: z.strictObject({ id: z.string() }) })).toThrow(/'id' has no .describe/);
    expect(() => defineTool({ ...base, input: z.strictObject({ id: z.string().optional().describe('x') }) })).not.toThrow();
  });

  it('derives the behaviour hints from access', () => {
    expect(defineTool(base).annotations).toEqual({
      title: 'Get thing',
      readOnlyHint: true,
      destructiveHint: false,
      idempotentHint: true,
      openWorldHint: false,
    });
    expect(defineTool({ ...base, access: 'control' }).annotations).toMatchObject({ readOnlyHint: false, destructiveHint: true, idempotentHint: false });
    expect(defineTool({ ...base, access: 'admin', idempotent: true, live: true }).annotations).toMatchObject({ destructiveHint: true, idempotentHint: true, openWorldHint: true });
  });

  it('answers a misspelt argument with the valid names', () => {
    const r = defineTool(base).input.safeParse({ id: 'a', idd: 'x' });
    expect(r.success).toBe(false);
    expect(r.error!.issues.map(i => i.message)).toEqual(["unknown argument 'idd'; get_thing takes id"]);
  });

  it('turns REST hints of the services into tool names', () => {
    expect(mcpMessage("unknown miner 'x'; GET /api/v1/miners lists your miners")).toBe("unknown miner 'x'; list_miners lists your miners");
    expect(mcpMessage('no data (GET /api/v1/miners/abc shows last_seen)')).toBe('no data (get_miner shows last_seen)');
    expect(mcpMessage("unknown job 'j'; GET /api/v1/jobs lists your jobs")).toBe("unknown job 'j'; list_jobs lists your jobs");
  });
});

describe('registration', () => {
  const caller = (role: 'viewer' | 'operator' | 'admin'): Caller => ({ sub: 's', tenant: 't', roles: [role] });
  const names = (c: Caller, o = {}): string[] => enabledTools(c, o).map(t => t.name);

  it('has unique snake_case names, one category each, and the tools of the issue', () => {
    expect(new Set(ALL_TOOLS.map(t => t.name)).size).toBe(ALL_TOOLS.length);
    expect(ALL_TOOLS.map(t => t.name).sort()).toEqual(
      [
        'fleet_overview', 'list_miners', 'get_miner', 'get_miner_config', 'query_telemetry', 'find_underperformers',
        'find_hot_spots', 'efficiency_report', 'compare_periods', 'availability_report', 'pool_health', 'get_events',
        'diagnose_miner', 'ping_miner', 'get_miner_logs', 'list_jobs', 'get_job', 'list_power_schedules',
        'miner_action', 'set_power_target', 'set_hashrate_target', 'set_pools', 'set_cooling_mode', 'set_hashboards',
        'set_power_schedule', 'remove_power_schedule', 'start_firmware_rollout', 'pause_job', 'resume_job', 'cancel_job',
        'run_performance_baseline', 'register_miner', 'unregister_miner', 'scan_network', 'factory_reset',
        'get_profitability', 'find_losing_miners', 'get_break_even',
        'list_curtailment_policies', 'plan_curtailment', 'curtail_now',
      ].sort(),
    );
  });

  it('registers by role, read-only mode and category', () => {
    expect(names(caller('viewer')).every(n => ALL_TOOLS.find(t => t.name === n)!.access === 'read')).toBe(true);
    expect(names(caller('viewer'))).toHaveLength(23);
    expect(names(caller('operator'))).toHaveLength(37);
    expect(names(caller('admin'))).toHaveLength(41);
    expect(names(caller('admin'), { readOnly: true })).toEqual(names(caller('viewer')));
    expect(names(caller('admin'), { categories: ['admin'] })).toEqual(['register_miner', 'unregister_miner', 'scan_network', 'factory_reset']);
    expect(names({ sub: 's', tenant: 't', roles: [] })).toEqual([]);
  });

  // Every tool definition is sent to the model on every request: keep the list small, without
  // losing what the model needs to call a tool right.
  const deps = { fleetQuery: {}, plane: {}, infra: { redis: {}, keys: redisKeys('x'), log: silentLogger() } } as unknown as McpDeps;
  async function listed(role: 'viewer' | 'admin'): Promise<Record<string, unknown>[]> {
    const handler = createMcpHandler(() => buildMcpServer(deps, caller(role)));
    const client = new Client({ name: 'budget', version: '1' });
    await client.connect(new StreamableHTTPClientTransport(new URL('http://x/mcp'), { fetch: (u, i) => handler.fetch(new Request(u, i)) }));
    const { tools } = await client.listTools();
    await client.close();
    return tools as unknown as Record<string, unknown>[];
  }

  // Issue 18 added three profitability tools (about 3.4 KB) and three curtailment tools (about
  // 2.4 KB; the "plan tonight's curtailment" prompt calls both kinds): the budget grew by that much.
  it('keeps tools/list within its byte budget: < 46 KB at admin, < 23.5 KB at viewer, < 2.6 KB per tool', async () => {
    const admin = await listed('admin');
    const viewer = await listed('viewer');
    const bytes = (v: unknown): number => Buffer.byteLength(JSON.stringify(v));
    expect(bytes(admin)).toBeLessThan(46_000);
    expect(bytes(viewer)).toBeLessThan(23_500);
    for (const t of admin) expect(bytes(t), String(t.name)).toBeLessThan(2_600);
  });

  it('the compact schemas keep every argument, its description, enum, default, range and required', async () => {
    const admin = await listed('admin');
    for (const tool of ALL_TOOLS) {
      const wire = admin.find(t => t.name === tool.name)!;
      const schema = wire.inputSchema as { properties: Record<string, Record<string, unknown>>; required?: string[] };
      const full = z.toJSONSchema(tool.input, { io: 'input' }) as { properties: Record<string, Record<string, unknown>>; required?: string[] };
      expect(Object.keys(schema.properties), tool.name).toEqual(Object.keys(full.properties));
      expect(schema.required ?? [], tool.name).toEqual(full.required ?? []);
      for (const [name, f] of Object.entries(full.properties)) {
        const w = schema.properties[name]!;
        const where = `${tool.name}.${name}`;
        expect(typeof w.description, where).toBe('string');
        for (const k of ['enum', 'const', 'minimum', 'maximum', 'exclusiveMinimum'] as const) if (k in f) expect(w[k], `${where} ${k}`).toEqual(f[k]);
        if ('default' in f) expect(w.default, `${where} default`).toEqual(f.default);
      }
      // The output schema names every top-level field of the answer (looser than the answer).
      const out = wire.outputSchema as { properties: Record<string, unknown> };
      expect(Object.keys(out.properties).sort(), tool.name).toEqual(Object.keys(tool.output.shape).sort());
      expect(wire.annotations, tool.name).not.toHaveProperty('title');
    }
    // Hints differ from the spec defaults only where they say something.
    expect(admin.find(t => t.name === 'fleet_overview')!.annotations).toEqual({ readOnlyHint: true, idempotentHint: true, openWorldHint: false });
    expect(admin.find(t => t.name === 'miner_action')!.annotations).toEqual({});
    // set_pools' group schema is written once and referenced from groups and group.
    const pools = admin.find(t => t.name === 'set_pools')!.inputSchema as { $defs?: Record<string, unknown>; properties: Record<string, Record<string, unknown>> };
    expect(Object.keys(pools.$defs ?? {})).toHaveLength(1);
    expect(pools.properties.group!.$ref).toBe('#/$defs/shared1');
  });
});

describe('answer size helpers', () => {
  it('fitList keeps the longest prefix that fits and says it cut', () => {
    const items = Array.from({ length: 500 }, (_, i) => ({ id: `miner-${i}`, note: 'x'.repeat(50) }));
    const make = (n: number) => ({ structured: { items: items.slice(0, n), truncated: n < items.length }, summary: `${n} items` });
    const f = fitList(items.length, make, DEFAULT_ANSWER_BYTES);
    expect(f.cut).toBe(true);
    expect(answerBytes(f.answer.summary, f.answer.structured)).toBeLessThanOrEqual(DEFAULT_ANSWER_BYTES);
    expect(answerBytes(make(f.kept + 1).summary, make(f.kept + 1).structured)).toBeGreaterThan(DEFAULT_ANSWER_BYTES);
    expect(fitList(3, make, DEFAULT_ANSWER_BYTES)).toMatchObject({ kept: 3, cut: false });
  });

  it('tailText keeps whole lines at the end', () => {
    const text = Array.from({ length: 100 }, (_, i) => `line ${i}`).join('\n');
    const t = tailText(text, 40);
    expect(t.truncated).toBe(true);
    expect(t.text.startsWith('line')).toBe(true);
    expect(t.text.endsWith('line 99')).toBe(true);
  });

  it('telemetry steps keep the points per series bounded', () => {
    expect(pickStep(3_600_000, 60)).toBe(60_000);
    expect(pickStep(24 * 3_600_000, 60)).toBe(1_800_000);
    expect(90 * 86_400_000 / pickStep(90 * 86_400_000, 60)).toBeLessThanOrEqual(60);
  });
});

describe('unknown id suggestions', () => {
  const ids = ['s19-01', 's19-02', 's19-10', 'sim-0004', 'rack7-s21-003'];
  it('prefers exact (case-insensitive), then prefixes, then close spellings', () => {
    expect(closeMatches('S19-01', ids)).toEqual(['s19-01']);
    expect(closeMatches('s19-1', ids)).toEqual(['s19-10']);
    expect(closeMatches('sim-004', ids)).toEqual(['sim-0004']);
    expect(closeMatches('rack7-s21-03', ids)).toEqual(['rack7-s21-003']);
    expect(closeMatches('zzz', ids)).toEqual([]);
  });
  it('bounded edit distance', () => {
    expect(editDistance('kitten', 'sitting', 5)).toBe(3);
    expect(editDistance('a', 'abcdefgh', 2)).toBe(3);
  });
});

describe('stdio configuration', () => {
  it('has safe defaults: tenant default, viewer, all categories', () => {
    const { mcp, api } = loadMcpConfig({});
    expect(mcp).toMatchObject({ MCP_TENANT: 'default', MCP_ROLE: 'viewer', MCP_READ_ONLY: false, MCP_WORKER: true });
    expect(categoriesOf(mcp)).toBe('all');
    expect(api).toMatchObject({ AUTH_MODE: 'none', AUTH_NONE_TENANT: 'default', AUTH_NONE_ROLE: 'viewer' });
  });

  it('lets flags override the environment and ignores API-only keys', () => {
    const { mcp, api } = loadMcpConfig(
      { MCP_ROLE: 'viewer', MCP_TOOLS: 'fleet,miners', REDIS_PREFIX: 'p1', API_PORT: 'not-a-port' },
      { MCP_ROLE: 'operator', MCP_TENANT: 'acme', MCP_READ_ONLY: 'true' },
    );
    expect(mcp).toMatchObject({ MCP_ROLE: 'operator', MCP_TENANT: 'acme', MCP_READ_ONLY: true, REDIS_PREFIX: 'p1' });
    expect(categoriesOf(mcp)).toEqual(['fleet', 'miners']);
    expect(api.REDIS_PREFIX).toBe('p1');
  });

  it('reports every bad key at once, with the value and the expected form', () => {
    try {
      loadMcpConfig({ MCP_ROLE: 'root', MCP_TOOLS: 'fleet,spaceships', MCP_READ_ONLY: 'maybe', INFLUX_PASSWORD: 'hunter2', INFLUX_URL: 'nope' });
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      const msg = (err as Error).message;
      expect(msg).toContain('MCP_ROLE="root": expected one of viewer, operator, admin');
      expect(msg).toContain('MCP_TOOLS=');
      expect(msg).toContain('MCP_READ_ONLY="maybe": expected true or false');
      expect(msg).toContain('INFLUX_URL="nope"');
      expect(msg).not.toContain('hunter2');
    }
  });
});

describe('error mapping', () => {
  async function client(fleetQuery: Record<string, unknown>): Promise<Client> {
    const deps = {
      fleetQuery,
      plane: {},
      infra: { redis: { smembers: async () => [] }, keys: redisKeys('x'), log: silentLogger() },
    } as unknown as McpDeps;
    const handler = createMcpHandler(() => buildMcpServer(deps, { sub: 's', tenant: 't', roles: ['viewer'] }));
    const c = new Client({ name: 'errors', version: '1' });
    await c.connect(new StreamableHTTPClientTransport(new URL('http://x/mcp'), { fetch: (u, i) => handler.fetch(new Request(u, i)) }));
    return c;
  }
  const text = (r: unknown): string => ((r as { content: { text: string }[] }).content[0]!.text);

  it('a dependency outage is an isError result without internal addresses', async () => {
    const { FleetError } = await import('../../core/errors.ts');
    const c = await client({
      summary: async () => {
        throw new FleetError('unavailable', 'InfluxDB is not reachable at http://10.0.0.5:8086 (query)');
      },
    });
    const r = await c.callTool({ name: 'fleet_overview', arguments: {} });
    expect(r.isError).toBe(true);
    expect(text(r)).toBe('unavailable: InfluxDB is not reachable (query); try again shortly');
    await c.close();
  });

  it('anything that is not a FleetError is logged and answered generically', async () => {
    const c = await client({
      summary: async () => {
        throw new Error('ERR wrong number of arguments for HGET at redis://:s3cret@redis.internal:6379');
      },
    });
    const r = await c.callTool({ name: 'fleet_overview', arguments: {} });
    expect(r.isError).toBe(true);
    expect(text(r)).toBe('internal: internal error while running the tool; it has been logged');
    await c.close();
  });

  it('an answer that does not match the output schema never reaches the client', async () => {
    const c = await client({ summary: async () => ({ tenant: 't', totals: { miners: 'many' }, by_site: [], by_model: [] }) });
    const r = await c.callTool({ name: 'fleet_overview', arguments: {} });
    expect(r.isError).toBe(true);
    expect(text(r)).toMatch(/^internal:/);
    await c.close();
  });
});
