import type { Client } from '@modelcontextprotocol/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startMcpHarness, type McpHarness } from './harness.ts';
import { call } from './helpers.ts';

/**
 * The tools and prompts that explain faults name them as the simulator has them: which board is
 * dead (its expected hashrate against 0), that a paused miner is paused (not "low hashrate" or
 * dead boards), and which kind of restart happened (system reboot, bosminer restart, or a restart
 * our own control action caused). Real collector and stores, real MCP client.
 */

type Cause = { cause: string; evidence: string; severity: string };
type Diagnosis = { status: string; likely_causes: Cause[]; boards: { board: string; hashrate_ths: number }[] };

let h: McpHarness;
let viewer: Client;
let operator: Client;
let dead: string;
let paused: string;
let rebooted: string;
let restarted: string;
let planned: string;

const byId = (i: number): string => h.fleet.miners[i]!.id;

beforeAll(async () => {
  h = await startMcpHarness({ sim: { miners: 6, faults: '', quickRamping: { upS: 1, downS: 1 } }, collectSeconds: 3 });
  viewer = await h.connect(h.viewer);
  operator = await h.connect(h.operator);
  [dead, paused, rebooted, restarted, planned] = [byId(0), byId(1), byId(2), byId(3), byId(4)];
  h.fleet.injectFault(dead, { kind: 'hashboard_failure', board_index: 1 });
  h.fleet.miner(paused).pause(h.fleet.now());
}, 60_000);

afterAll(async () => {
  await h?.close();
});

async function diagnose(miner: string): Promise<{ s: Diagnosis; text: string }> {
  return await call<Diagnosis>(viewer, 'diagnose_miner', { miner, log_lines: 0 });
}

describe('fault explanations over MCP', () => {
  it('diagnose_miner and find_underperformers name the dead board with its expected hashrate against 0', async () => {
    const t = h.fleet.truth(dead);
    const deadBoard = t.boards[1]!.id;
    const expectedThs = t.boards[0]!.hashrate_nominal_ghs / 1_000;
    await expect.poll(async () => (await diagnose(dead)).s.likely_causes[0]!.cause, { timeout: 10_000, interval: 250 }).toBe(`hashboard ${deadBoard} not hashing`);
    const d = await diagnose(dead);
    const top = d.s.likely_causes[0]!;
    expect(top.severity).toBe('critical');
    // the evidence gives the board's expected hashrate and that it gives 0
    expect(top.evidence).toMatch(/0 TH\/s of .*expected/);
    const shown = Number(/of (?:its )?expected ([\d.]+) TH\/s/.exec(top.evidence)?.[1]);
    expect(Math.abs(shown - expectedThs)).toBeLessThan(expectedThs * 0.05);
    expect(d.text).toContain(`hashboard ${deadBoard} not hashing`);
    // no other board is blamed
    expect(d.s.likely_causes.filter(c => /^hashboard/.test(c.cause)).map(c => c.cause)).toEqual([`hashboard ${deadBoard} not hashing`]);

    type Boards = { items: { miner: string; board: string | null; pct_nominal: number; hashrate_nominal_ths: number }[] };
    const boardsNow = (): Promise<{ s: Boards; text: string }> => call<Boards>(viewer, 'find_underperformers', { window: '5s', level: 'board' });
    // the 5 s window holds no poll from before the failure once it is 5 s old
    await expect
      .poll(async () => (await boardsNow()).s.items.find(i => i.miner === dead && i.board === deadBoard)?.pct_nominal, { timeout: 12_000, interval: 250 })
      .toBe(0);
    const boards = await boardsNow();
    const row = boards.s.items.find(i => i.miner === dead && i.board === deadBoard);
    expect(Math.abs(row!.hashrate_nominal_ths - expectedThs)).toBeLessThan(expectedThs * 0.05);
    expect(boards.s.items.filter(i => i.miner === dead).map(i => i.board)).toEqual([deadBoard]);
    expect(boards.text).toContain(`${dead}`);
    expect(boards.text).toMatch(new RegExp(`board ${deadBoard} 0% \\(0 of [\\d.]+ TH/s\\)`));
  });

  it('a paused miner is diagnosed as paused, not as dead boards or low hashrate, and is no underperformer', async () => {
    await expect.poll(async () => (await diagnose(paused)).s.status, { timeout: 10_000, interval: 250 }).toBe('paused');
    await expect.poll(() => h.fleet.truth(paused).hashrate_instant_ghs, { timeout: 10_000, interval: 250 }).toBe(0);
    const d = await diagnose(paused);
    expect(d.s.likely_causes[0]!.cause).toBe('mining is paused');
    const causes = d.s.likely_causes.map(c => c.cause);
    expect(causes.filter(c => /hashboard|low hashrate|pool/.test(c))).toEqual([]);
    expect(d.text).toMatch(/is paused; .*most likely: mining is paused/);

    const under = await call<{ items: { miner: string }[]; hint?: string }>(viewer, 'find_underperformers', { window: '1m' });
    expect(under.s.items.map(i => i.miner)).not.toContain(paused);
    expect(under.s.hint).toContain(`${paused} paused`);
    expect(under.text).toContain(`${paused} paused`);
  });

  it('diagnose_miner tells a system reboot from a bosminer restart from a restart our own action caused', async () => {
    h.fleet.rebootMiner(rebooted);
    h.fleet.miner(restarted).restartMining(h.fleet.now());
    const act = await call<{ job?: unknown }>(operator, 'miner_action', { action: 'restart', miner: planned, wait_s: 10 });
    expect(act.text).not.toMatch(/failed/i);
    const kinds = async (miner: string): Promise<string[]> =>
      (await call<{ items: { kind: string }[] }>(viewer, 'get_events', { miner, limit: 20 })).s.items.map(e => e.kind);
    await expect.poll(() => kinds(rebooted), { timeout: 15_000, interval: 300 }).toContain('reboot_detected');
    await expect.poll(() => kinds(restarted), { timeout: 15_000, interval: 300 }).toContain('mining_restarted');
    await expect.poll(() => kinds(planned), { timeout: 15_000, interval: 300 }).toContain('planned_restart');
    expect(await kinds(restarted)).not.toContain('reboot_detected');
    expect(await kinds(planned)).not.toContain('reboot_detected');
    expect(await kinds(planned)).not.toContain('mining_restarted');

    const causesOf = async (miner: string): Promise<Cause[]> => (await diagnose(miner)).s.likely_causes;
    const r = await causesOf(rebooted);
    expect(r.map(c => c.cause)).toContain('the miner rebooted');
    expect(r.map(c => c.cause).join('|')).not.toMatch(/mining restart|planned/);
    const m = await causesOf(restarted);
    expect(m.map(c => c.cause)).toContain('bosminer (mining) restarted');
    expect(m.map(c => c.cause).join('|')).not.toMatch(/rebooted|planned/);
    const p = await causesOf(planned);
    const plannedCause = p.find(c => c.cause === 'restarted by a control action');
    expect(plannedCause, JSON.stringify(p)).toBeDefined();
    expect(plannedCause!.severity).toBe('info');
    expect(plannedCause!.evidence).toContain('otto@example.com');
    expect(p.map(c => c.cause).join('|')).not.toMatch(/rebooted|bosminer \(mining\) restarted|repeated/);
  });

  it('efficiency_report leaves the paused miner out with a note and ranks the dead-board miner by its real J/TH', async () => {
    type Eff = { items: { miner: string; efficiency_jth: number }[]; excluded: number; hint?: string };
    const t = h.fleet.truth(dead);
    const realGhs = t.boards.filter(b => b.hashing && b.chips > 0).reduce((a, b) => a + b.hashrate_ghs, 0);
    const realJth = t.power_w / (realGhs / 1_000);
    const eff = await call<Eff>(viewer, 'efficiency_report', { window: '1m', limit: 100 });
    expect(eff.s.items.map(i => i.miner)).not.toContain(paused);
    expect(eff.s.hint).toContain(`${paused} paused`);
    expect(eff.text).toContain(`${paused} paused`);
    const row = eff.s.items.find(i => i.miner === dead);
    expect(row, eff.text).toBeDefined();
    expect(Math.abs(row!.efficiency_jth - realJth)).toBeLessThan(realJth * 0.05);
    // the miner list agrees: a paused miner has no efficiency
    const list = await h.deps.fleetQuery.listMiners(h.viewer, { limit: 100 });
    expect(list.items.find(i => i.id === paused)!.efficiency_jth).toBeNull();
  });

  it('fleet_health_report tells the model how to name dead boards, paused miners and restarts', async () => {
    const prompt = await viewer.getPrompt({ name: 'fleet_health_report', arguments: { window: '1h' } });
    const text = prompt.messages.map(m => (m.content.type === 'text' ? m.content.text : '')).join('\n');
    expect(text).toMatch(/level=board/);
    expect(text).toMatch(/expected .*0|0 .*expected/);
    expect(text).toMatch(/paused or stopped.*not .*underperform/i);
    expect(text).toMatch(/reboot_detected/);
    expect(text).toMatch(/mining_restarted/);
    expect(text).toMatch(/planned_restart/);
  });
});
