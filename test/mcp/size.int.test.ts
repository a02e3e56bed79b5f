import type { Client } from '@modelcontextprotocol/client';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { ALL_TOOLS } from '../../mcp/server.ts';
import { answerBytes } from '../../mcp/size-budget.ts';
import type { ToolResult } from './helpers.ts';
import { createSyntheticPolicy, defaultReadCalls, startSyntheticMcp, type SyntheticMcp } from './synthetic.ts';

// Answer size at 5,000 miners: snapshots, aggregates, an hour of raw points, 12 h of 1m and
// 26 h of 1h rollups and 300 events written with the collector's modules (no simulated miners:
// their addresses point at a closed loopback port, so live tools report them unreachable).
// Every read tool's default answer (serialized content + structuredContent) stays under 8 KB
// and says when it was cut.
const N = 5_000;
const LIMIT = 8_192;
let f: SyntheticMcp;
let client: Client;
let jobId: string;

beforeAll(async () => {
  f = await startSyntheticMcp({
    n: N,
    influxUrl: inject('influxUrl'),
    redisUrl: inject('redisUrl'),
    seed: { rawMinutes: 60, rawEveryMin: 5, rollup1mMinutes: 12 * 60, rollup1mEveryMin: 60, rollup1hHours: 26 },
    runWorker: true,
  });
  client = await f.connect(f.operator);
  await client.listTools();
  // A finished job with 500 per-miner results (every miner unreachable) and 12 schedules.
  const site = f.miners[0]!.ref.site;
  const job = await f.plane.control.execute(f.operator, { selector: { site } }, { kind: 'action', action: 'locate_on' });
  jobId = job.job!.id;
  await f.plane.jobs.waitUntilFinished(f.operator, jobId, 120_000);
  for (let i = 0; i < 12; i++)
    await f.plane.schedules.create(f.operator, {
      name: `peak ${i}`,
      selector: { site },
      cron: `${i} 17 * * 1-5`,
      duration_ms: 1_800_000,
      action: { type: 'power_target', watt: 2_500 },
    });
  // A curtailment policy over a whole site with an evening peak every day: plan_curtailment's answer.
  await createSyntheticPolicy(f.plane, f.operator, site);
}, 300_000);

afterAll(async () => {
  await f?.close();
});

describe(`default answers at ${N} miners`, () => {
  it('every read tool is covered', () => {
    const covered = new Set(defaultReadCalls(f.miners, jobId).map(c => c.name));
    expect([...covered].sort()).toEqual(ALL_TOOLS.filter(t => t.access === 'read').map(t => t.name).sort());
  });

  it('stay under 8 KB, and say when they were cut', async () => {
    const report: string[] = [];
    for (const { name, args } of defaultReadCalls(f.miners, jobId)) {
      const r = (await client.callTool({ name, arguments: args })) as ToolResult;
      const text = r.content.map(c => c.text ?? '').join('');
      const bytes = answerBytes(text, r.structuredContent);
      report.push(`${name} ${JSON.stringify(args).slice(0, 40)}: ${bytes} B${r.isError ? ` (error: ${text.slice(0, 80)})` : ''}`);
      expect(bytes, `${name} ${JSON.stringify(args)}`).toBeLessThan(LIMIT);
      // Only the live tools may fail here (the miners are not there).
      if (r.isError) expect(['get_miner_config', 'get_miner_logs']).toContain(name);
      if (!r.isError) {
        const tool = ALL_TOOLS.find(t => t.name === name)!;
        expect(tool.output.safeParse(r.structuredContent).success, name).toBe(true);
      }
    }
    process.stdout.write(`${report.join('\n')}\n`);
  });

  it('lists that are longer than the answer say so, with a hint', async () => {
    const cases: [string, Record<string, unknown>, string][] = [
      ['list_miners', {}, 'items'],
      ['find_underperformers', {}, 'items'],
      ['find_hot_spots', {}, 'items'],
      ['efficiency_report', {}, 'items'],
      ['availability_report', {}, 'items'],
      ['get_events', {}, 'items'],
      ['fleet_overview', {}, 'sites'],
      ['compare_periods', { a_from: 'now-48h', a_to: 'now-24h', b_from: 'now-24h', b_to: 'now' }, 'groups'],
      ['get_job', { id: jobId }, 'results'],
      ['list_power_schedules', {}, 'items'],
    ];
    for (const [name, args, list] of cases) {
      const r = (await client.callTool({ name, arguments: args })) as ToolResult;
      const s = r.structuredContent as Record<string, unknown>;
      expect(s.truncated, name).toBe(true);
      expect(typeof s.hint, name).toBe('string');
      expect((s[list] as unknown[]).length, name).toBeGreaterThan(0);
    }
    const list = (await client.callTool({ name: 'list_miners', arguments: {} })) as ToolResult;
    expect((list.structuredContent as { total: number }).total).toBe(N);
  });

  it('an explicit limit gets more, but never past the hard cap', async () => {
    const r = (await client.callTool({ name: 'list_miners', arguments: { limit: 100 } })) as ToolResult;
    const s = r.structuredContent as { items: unknown[]; truncated: boolean };
    expect(s.items.length).toBe(100);
    expect(s.truncated).toBe(true);
    const tooMany = (await client.callTool({ name: 'list_miners', arguments: { limit: 5_000 } })) as ToolResult;
    expect(tooMany.isError).toBe(true);
    expect(tooMany.content[0]!.text).toMatch(/between 1 and 100/);
  });
});
