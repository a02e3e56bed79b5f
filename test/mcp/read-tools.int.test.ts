import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BACKENDS } from '../store/backends.ts';
import type { Client } from '@modelcontextprotocol/client';
import { ALL_TOOLS, enabledTools } from '../../mcp/server.ts';
import { PROMPT_NAMES } from '../../mcp/prompts.ts';
import { call, callError, fleetState, withFault } from './helpers.ts';
import { startMcpHarness, type McpHarness } from './harness.ts';

// The read side of the MCP server over a simulated fleet collected by the real collector (real
// gRPC, InfluxDB, Redis), through a real MCP client. Values are checked against the simulator's
// ground truth (fleet.truth), never against the query code; no call may change any miner.
describe.each(BACKENDS)('MCP read tools (%s store)', backend => {
let h: McpHarness;
let viewer: Client;
let operator: Client;
let before: ReturnType<typeof fleetState>;
let unreachable: string;
let brokenBoard: string;
let healthy: string;

beforeAll(async () => {
  h = await startMcpHarness({ backend });
  viewer = await h.connect(h.viewer);
  operator = await h.connect(h.operator);
  await viewer.listTools();
  await operator.listTools();
  unreachable = withFault(h.fleet, 'unreachable')[0]!;
  brokenBoard = withFault(h.fleet, 'hashboard_failure')[0]!;
  healthy = h.fleet.miners.map(m => m.id).find(id => id !== unreachable && id !== brokenBoard)!;
  before = fleetState(h.fleet);
}, 120_000);

afterAll(async () => {
  await h?.close();
});

describe('what each caller is offered', () => {
  it('a viewer gets only read tools, an operator read and control tools, an admin all of them', async () => {
    const names = async (c: Client): Promise<string[]> => (await c.listTools()).tools.map(t => t.name).sort();
    const read = ALL_TOOLS.filter(t => t.access === 'read').map(t => t.name).sort();
    expect(await names(viewer)).toEqual(read);
    const op = await names(operator);
    expect(op).toContain('set_power_target');
    expect(op).toContain('start_firmware_rollout');
    expect(op).not.toContain('factory_reset');
    const admin = await h.connect(h.admin);
    expect((await names(admin)).length).toBe(ALL_TOOLS.length);
    // read-only and category switches decide registration too
    const ro = await h.connect(h.admin, { readOnly: true });
    expect(await names(ro)).toEqual(read);
    const some = await h.connect(h.operator, { categories: ['fleet', 'jobs'] });
    expect(await names(some)).toEqual(
      enabledTools(h.operator, { categories: ['fleet', 'jobs'] }).map(t => t.name).sort(),
    );
    expect(await names(some)).not.toContain('list_miners');
  });

  it('every tool has described, strict inputs, an output schema and hints that match its access', async () => {
    const { tools } = await (await h.connect(h.admin)).listTools();
    for (const t of tools) {
      const def = ALL_TOOLS.find(d => d.name === t.name)!;
      expect(t.outputSchema, t.name).toBeDefined();
      for (const [k, p] of Object.entries(t.inputSchema.properties ?? {}))
        expect((p as { description?: string }).description, `${t.name}.${k}`).toBeTruthy();
      // Hints are sent where they differ from the spec's defaults (readOnly false, destructive true).
      expect(t.annotations?.readOnlyHint ?? false, t.name).toBe(def.access === 'read');
      if (def.access !== 'read') expect(t.annotations?.destructiveHint ?? true, t.name).toBe(true);
      expect(t.description!.length).toBeLessThanOrEqual(400);
    }
  });

  it('lists the resources, resource templates and prompts', async () => {
    const res = await viewer.listResources();
    expect(res.resources.map(r => r.uri).sort()).toEqual(['bosfleet://fleet/summary', 'bosfleet://inventory']);
    const templates = await viewer.listResourceTemplates();
    expect(templates.resourceTemplates.map(t => t.uriTemplate).sort()).toEqual([
      'bosfleet://jobs/{id}',
      'bosfleet://miners/{id}',
      'bosfleet://miners/{id}/telemetry',
    ]);
    const prompts = await viewer.listPrompts();
    expect(prompts.prompts.map(p => p.name).sort()).toEqual([...PROMPT_NAMES].sort());
  });
});

describe('read tools against the simulator', () => {
  it('fleet_overview counts the miners by status and sums the real hashrate of the reached ones', async () => {
    const { s, text, bytes } = await call<{
      totals: { miners: number; by_status: Record<string, number>; hashrate_ths: number; power_kw: number };
      sites: { site: string; miners: number }[];
      models: { model: string; miners: number; hashrate_ths: number; power_kw: number }[];
      stale: boolean;
    }>(viewer, 'fleet_overview');
    // Every miner is counted under a model, with the model's hashrate and power (#14 item 12).
    expect(s.models.reduce((a, m) => a + m.miners, 0)).toBe(s.totals.miners);
    expect(s.models.reduce((a, m) => a + m.hashrate_ths, 0)).toBeCloseTo(s.totals.hashrate_ths, 1);
    expect(s.models.reduce((a, m) => a + m.power_kw, 0)).toBeCloseTo(s.totals.power_kw, 1);
    const truths = h.fleet.miners.map(m => h.fleet.truth(m.id));
    expect(s.totals.miners).toBe(truths.length);
    expect(s.totals.by_status.offline).toBe(truths.filter(t => !t.reachable).length);
    const ths = truths.filter(t => t.reachable).reduce((a, t) => a + t.hashrate_ghs, 0) / 1_000;
    expect(Math.abs(s.totals.hashrate_ths - ths)).toBeLessThan(ths * 0.05);
    const kw = truths.filter(t => t.reachable).reduce((a, t) => a + t.power_w, 0) / 1_000;
    expect(Math.abs(s.totals.power_kw - kw)).toBeLessThan(kw * 0.05);
    expect(s.sites.reduce((a, x) => a + x.miners, 0)).toBe(truths.length);
    expect(s.stale).toBe(false);
    expect(text).toMatch(/10 miners/);
    expect(bytes).toBeLessThan(8_000);
  });

  it('list_miners pages, filters and shows hostnames next to ids', async () => {
    const all = await call<{ items: { id: string; hostname: string | null; status: string }[]; total: number }>(
      viewer,
      'list_miners',
      { limit: 100 },
    );
    expect(all.s.total).toBe(10);
    for (const m of all.s.items) if (m.id !== unreachable) expect(m.hostname).toBe(h.fleet.truth(m.id).hostname);
    const offline = await call<{ items: { id: string }[]; total: number }>(viewer, 'list_miners', { status: 'offline' });
    expect(offline.s.items.map(i => i.id)).toEqual([unreachable]);
    const page = await call<{ items: { id: string }[]; truncated: boolean; next_cursor: string | null }>(viewer, 'list_miners', {
      limit: 3,
    });
    expect(page.s.items).toHaveLength(3);
    expect(page.s.truncated).toBe(true);
    const next = await call<{ items: { id: string }[] }>(viewer, 'list_miners', { limit: 3, cursor: page.s.next_cursor });
    expect(next.s.items[0]!.id > page.s.items[2]!.id).toBe(true);
    const byHost = await call<{ items: { id: string }[] }>(viewer, 'list_miners', { q: h.fleet.truth(healthy).hostname });
    expect(byHost.s.items.map(i => i.id)).toEqual([healthy]);
  });

  it('get_miner is concise by default and detailed on request, matching the truth', async () => {
    const t = h.fleet.truth(healthy);
    const c = await call<Record<string, unknown>>(viewer, 'get_miner', { miner: healthy });
    expect(c.s.boards).toBeUndefined();
    expect(c.s.hostname).toBe(t.hostname);
    expect(Math.abs((c.s.hashrate_ths as number) - t.hashrate_ghs / 1_000)).toBeLessThan((t.hashrate_ghs / 1_000) * 0.05);
    expect(c.s.firmware).toBe(t.firmware);
    const d = await call<{ boards: unknown[]; pools: { url: string }[]; fans: unknown[] }>(viewer, 'get_miner', {
      miner: healthy,
      view: 'detailed',
    });
    expect(d.s.boards).toHaveLength(t.boards_total);
    expect(d.s.fans).toHaveLength(t.fans.length);
    expect(d.bytes).toBeGreaterThan(c.bytes);
  });

  it('get_miner_config reads the miner live and never returns a pool password', async () => {
    const t = h.fleet.truth(healthy);
    const { s, text } = await call<{
      tuner: { power_target_w: number; power_target_range_w: { min: number; max: number } | null };
      pools: { pools: { url: string; user: string }[] }[];
      hashboards: unknown[];
      network: { hostname: string | null } | null;
    }>(viewer, 'get_miner_config', { miner: healthy });
    expect(s.tuner.power_target_w).toBe(t.power_target_w);
    expect(s.tuner.power_target_range_w!.min).toBeLessThan(s.tuner.power_target_range_w!.max);
    expect(s.pools.flatMap(g => g.pools.map(p => p.url)).sort()).toEqual(t.pools.map(p => p.url).sort());
    expect(s.hashboards).toHaveLength(t.boards_total);
    expect(s.network?.hostname).toBe(t.hostname);
    expect(JSON.stringify(s) + text).not.toMatch(/password/i);
  });

  it('ping_miner reports latency and versions, and an unreachable miner as data', async () => {
    const ok = await call<{ reachable: boolean; api_version: string; firmware: string; auth_ok: boolean; latency_ms: number }>(
      viewer,
      'ping_miner',
      { miner: healthy },
    );
    expect(ok.s).toMatchObject({ reachable: true, api_version: '1.11.0', firmware: h.fleet.truth(healthy).firmware, auth_ok: true });
    expect(ok.s.latency_ms).toBeGreaterThan(0);
    const down = await call<{ reachable: boolean; error_code: string; hint: string }>(viewer, 'ping_miner', { miner: unreachable });
    expect(down.s.reachable).toBe(false);
    expect(down.s.hint).toMatch(/network|power/);
  });

  it('get_miner_logs returns a bounded tail, and grep narrows it', async () => {
    const { s } = await call<{ lines: string[]; returned: number }>(viewer, 'get_miner_logs', { miner: healthy, lines: 15 });
    expect(s.returned).toBeGreaterThan(0);
    expect(s.lines.length).toBeLessThanOrEqual(15);
    const g = await call<{ lines: string[] }>(viewer, 'get_miner_logs', { miner: healthy, grep: 'chain' });
    expect(g.s.lines.every(l => l.toLowerCase().includes('chain'))).toBe(true);
  });

  it('diagnose_miner finds the dead hashboard and the unreachable miner', async () => {
    const board = await call<{ likely_causes: { cause: string }[]; boards: { hashrate_ths: number }[]; live: { reachable: boolean } }>(
      viewer,
      'diagnose_miner',
      { miner: brokenBoard },
    );
    expect(board.s.live.reachable).toBe(true);
    const deadBoards = h.fleet.truth(brokenBoard).boards.filter(b => !b.hashing).length;
    expect(deadBoards).toBeGreaterThan(0);
    expect(board.s.likely_causes[0]!.cause).toMatch(/hashboard/);
    expect(board.bytes).toBeLessThan(8_000);
    const down = await call<{ likely_causes: { cause: string; severity: string }[] }>(viewer, 'diagnose_miner', { miner: unreachable });
    expect(down.s.likely_causes[0]).toMatchObject({ cause: 'miner not reachable over the network', severity: 'critical' });
  });

  it('query_telemetry answers per miner and as an aggregate, with stats and compact values', async () => {
    const t = h.fleet.truth(healthy);
    const per = await call<{ series: { miner: string; metric: string; last: number | null; values: (number | null)[] }[]; step_s: number }>(
      viewer,
      'query_telemetry',
      { miners: [healthy], window: '10m' },
    );
    expect(per.s.series.map(x => x.metric).sort()).toEqual(['hashrate_ths', 'power_w', 'temp_chip_max_c']);
    const power = per.s.series.find(x => x.metric === 'power_w')!;
    expect(Math.abs(power.last! - t.power_w)).toBeLessThan(t.power_w * 0.1);
    expect(per.s.step_s).toBeLessThanOrEqual(30);
    const agg = await call<{ mode: string; series: { scope: string; metric: string; last: number | null }[] }>(viewer, 'query_telemetry', {
      site: t.site,
      metrics: ['hashrate_ths', 'online_miners'],
      window: '10m',
    });
    expect(agg.s.mode).toBe('aggregate');
    expect(agg.s.series.every(x => x.scope === `site=${t.site}`)).toBe(true);
    const text = await callError(viewer, 'query_telemetry', { miners: [healthy], metrics: ['online_miners'] });
    expect(text).toMatch(/online_miners is not available per miner; use one of/);
  });

  it('analytics: underperformers, hot spots, efficiency, availability and period comparison', async () => {
    const under = await call<{ evaluated: number; items: { miner: string; pct_nominal: number }[] }>(viewer, 'find_underperformers', {
      window: '1h',
      threshold_pct: 100,
    });
    expect(under.s.evaluated).toBe(9);
    // Against the truth: a miner clearly below nominal is listed, one clearly above is not.
    for (const m of h.fleet.miners) {
      const t = h.fleet.truth(m.id);
      if (!t.reachable) continue;
      // expected with every board (a dead board's share counts: the miner's own nominal drops with it)
      const hashing = t.boards.filter(b => b.hashing).length;
      const expected = hashing > 0 ? (t.hashrate_nominal_ghs * t.boards.length) / hashing : t.hashrate_nominal_ghs;
      const ratio = (t.hashrate_ghs / expected) * 100;
      if (ratio < 98) expect(under.s.items.map(i => i.miner)).toContain(m.id);
      if (ratio > 102) expect(under.s.items.map(i => i.miner)).not.toContain(m.id);
    }
    expect(under.s.items.map(i => i.miner)).toContain(brokenBoard);
    expect(under.s.items.every(i => i.pct_nominal < 100)).toBe(true);
    const hot = await call<{ items: { miner: string; hostname: string | null; temp_max_c: number }[] }>(viewer, 'find_hot_spots');
    const hottest = h.fleet.miners
      .map(m => h.fleet.truth(m.id))
      .filter(t => t.reachable)
      .sort((a, b) => b.temp_chip_max_c - a.temp_chip_max_c)[0]!;
    // Readings carry up to ±0.4 °C of noise: the top entry is as hot as the hottest miner.
    expect(Math.abs(hot.s.items[0]!.temp_max_c - hottest.temp_chip_max_c)).toBeLessThan(1.5);
    for (const i of hot.s.items) expect(i.hostname).toBe(h.fleet.truth(i.miner).hostname);
    expect(hot.s.items.map(i => i.temp_max_c)).toEqual([...hot.s.items.map(i => i.temp_max_c)].sort((a, b) => b - a));
    const eff = await call<{ fleet_efficiency_jth: number; items: { efficiency_jth: number }[] }>(viewer, 'efficiency_report');
    expect(eff.s.fleet_efficiency_jth).toBeGreaterThan(10);
    expect(eff.s.items[0]!.efficiency_jth).toBeGreaterThanOrEqual(eff.s.items[eff.s.items.length - 1]!.efficiency_jth);
    const avail = await call<{ items: { miner: string; availability_pct: number }[]; fleet: { miners: number } }>(viewer, 'availability_report');
    expect(avail.s.items[0]).toMatchObject({ miner: unreachable, availability_pct: 0 });
    expect(avail.s.fleet.miners).toBe(10);
    const cmp = await call<{ totals: { a: { miners: number }; b: { miners: number } }; groups: unknown[] }>(viewer, 'compare_periods', {
      a_from: 'now-48h',
      a_to: 'now-24h',
      b_from: 'now-24h',
      b_to: 'now',
    });
    expect(cmp.s.totals.a.miners).toBe(10);
    expect(cmp.s.groups.length).toBeGreaterThan(0);
  });

  it('pool_health, get_events and the jobs and schedules listings', async () => {
    const pools = await call<{ items: { url: string }[] }>(viewer, 'pool_health');
    const urls = new Set(h.fleet.miners.filter(m => h.fleet.truth(m.id).reachable).flatMap(m => h.fleet.truth(m.id).pools.map(p => p.url)));
    expect(pools.s.items.map(p => p.url).sort()).toEqual([...urls].sort());
    const events = await call<{ items: { miner: string; kind: string }[] }>(viewer, 'get_events', { kind: 'miner_offline' });
    expect(events.s.items.map(e => e.miner)).toContain(unreachable);
    await call(viewer, 'list_jobs');
    await call(viewer, 'list_power_schedules');
  });
});

describe('resources, prompts and completions', () => {
  it('reads every resource, scoped and without secrets', async () => {
    const read = async (uri: string): Promise<Record<string, unknown>> => {
      const r = await viewer.readResource({ uri });
      return JSON.parse((r.contents[0] as { text: string }).text) as Record<string, unknown>;
    };
    expect((await read('bosfleet://fleet/summary')).tenant).toBe(h.tenant);
    expect((await read(`bosfleet://miners/${healthy}`)).hostname).toBe(h.fleet.truth(healthy).hostname);
    const tel = await read(`bosfleet://miners/${healthy}/telemetry`);
    expect((tel.series as unknown[]).length).toBe(4);
    const inv = await read('bosfleet://inventory');
    expect(inv.total).toBe(10);
    expect(JSON.stringify(inv)).not.toMatch(/credentials|password/);
    await expect(viewer.readResource({ uri: 'bosfleet://miners/nope-1' })).rejects.toThrow(/unknown miner/);
  });

  it('completes miner ids for the resource template and the diagnose prompt', async () => {
    const r = await viewer.complete({ ref: { type: 'ref/resource', uri: 'bosfleet://miners/{id}' }, argument: { name: 'id', value: 'sim-000' } });
    expect(r.completion.values.length).toBeGreaterThan(0);
    expect(r.completion.values.every(v => v.startsWith('sim-000'))).toBe(true);
    const p = await viewer.complete({ ref: { type: 'ref/prompt', name: 'diagnose_miner' }, argument: { name: 'miner', value: healthy } });
    expect(p.completion.values).toContain(healthy);
  });

  it('each prompt names the tools to use; a viewer is told to propose rather than act', async () => {
    const args: Record<string, Record<string, string>> = {
      diagnose_miner: { miner: healthy },
      curtailment_plan: { target_kw: '5' },
    };
    for (const name of PROMPT_NAMES) {
      const p = await viewer.getPrompt({ name, arguments: args[name] ?? {} });
      const text = (p.messages[0]!.content as { text: string }).text;
      expect(text, name).toMatch(/[a-z]+_[a-z_]+/);
      expect(text, name).toMatch(/Report:/);
    }
    const v = await viewer.getPrompt({ name: 'curtailment_plan', arguments: { target_kw: '5' } });
    expect((v.messages[0]!.content as { text: string }).text).toMatch(/cannot change miners/);
    const o = await operator.getPrompt({ name: 'curtailment_plan', arguments: { target_kw: '5' } });
    expect((o.messages[0]!.content as { text: string }).text).toMatch(/dry_run: true/);
  });
});

describe('errors say what to change', () => {
  it('an unknown miner id gets close matches', async () => {
    const typo = healthy.replace('-0', '-o');
    const text = await callError(viewer, 'get_miner', { miner: typo });
    expect(text).toContain(`unknown miner '${typo}'`);
    expect(text).toContain(`'${healthy}'`);
    expect(text).toContain('list_miners');
    // a hostname is a miner reference of its own now (issue 15): it names the miner, in any case
    const byHost = await call<{ miner: string }>(viewer, 'get_miner', { miner: h.fleet.truth(healthy).hostname.toUpperCase() });
    expect(byHost.text).toContain(healthy);
    const nearHost = await callError(viewer, 'get_miner', { miner: `${h.fleet.truth(healthy).hostname}x` });
    expect(nearHost).toContain(`'${healthy}'`);
  });

  it('invalid arguments: unknown names with the valid ones, limits, ranges', async () => {
    expect(await callError(viewer, 'list_miners', { stauts: 'offline' })).toMatch(/unknown argument 'stauts'; list_miners takes status, site/);
    expect(await callError(viewer, 'list_miners', { limit: 1000 })).toMatch(/between 1 and 100/);
    expect(await callError(viewer, 'find_hot_spots', { window: '120d' })).toMatch(/exceeds the 90d maximum/);
    expect(await callError(viewer, 'query_telemetry', { window: '100d' })).toMatch(/exceeds the 90d maximum/);
    expect(await callError(viewer, 'get_events', { from: 'yesterday' })).toMatch(/ISO 8601/);
    expect(await callError(viewer, 'get_job', { id: 'not-a-job' })).toMatch(/job id/);
    expect(await callError(viewer, 'get_job', { id: '00000000-0000-4000-8000-000000000000' })).toMatch(/list_jobs lists your jobs/);
  });

  it('a viewer cannot reach control tools, and no call above changed any miner', async () => {
    await expect(viewer.callTool({ name: 'set_power_target', arguments: { miner: healthy, watt: 2000 } })).rejects.toThrow(
      /set_power_target/,
    );
    await expect(viewer.callTool({ name: 'miner_action', arguments: { miner: healthy, action: 'reboot' } })).rejects.toThrow();
    // Another tenant's miner is a miner that does not exist.
    const other = await h.connect({ sub: 'eve', tenant: 'other-tenant', roles: ['admin'] });
    expect(await callError(other, 'get_miner', { miner: healthy })).toMatch(/unknown miner/);
    expect(await callError(other, 'miner_action', { miner: healthy, action: 'pause' })).toMatch(/unknown miner/);
    expect(fleetState(h.fleet)).toEqual(before);
  });
});
});
