import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BACKENDS } from '../store/backends.ts';
import type { Client } from '@modelcontextprotocol/client';
import { buildFirmwareImage } from '../../simulator/index.ts';
import { call, callError, fleetState, minerState, withFault } from './helpers.ts';
import { sleep, startMcpHarness, type McpHarness } from './harness.ts';

// Control, jobs, schedules, baseline, firmware rollout and admin tools through a real MCP
// client, checked against the simulated miners themselves: dry runs change nothing, applied
// changes show up in the miner's ground truth, passwords are never echoed.
describe.each(BACKENDS)('MCP control tools (%s store)', backend => {
let h: McpHarness;
let op: Client;
let admin: Client;
let ids: string[];
const NEW_FW = '2026-06-01-0-1a2b3c4d-26.06-plus';

const waitFor = async (what: string, fn: () => boolean, ms = 15_000): Promise<void> => {
  const end = Date.now() + ms;
  while (!fn()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
};

beforeAll(async () => {
  h = await startMcpHarness({ backend, sim: { miners: 10, faults: 'unreachable:1' } });
  op = await h.connect(h.operator);
  admin = await h.connect(h.admin);
  await op.listTools();
  await admin.listTools();
  const down = withFault(h.fleet, 'unreachable');
  ids = h.fleet.miners.map(m => m.id).filter(id => !down.includes(id));
}, 120_000);

afterAll(async () => {
  await h?.close();
});

describe('targets, actions, pools', () => {
  it('set_power_target: a dry run plans without touching the miner; the real call changes it', async () => {
    const id = ids[0]!;
    const before = minerState(h.fleet, id);
    const target = (before.power_target_w as number) - 300;
    const dry = await call<{ dry_run: boolean; miners: { status: string; changes: { field: string; current: unknown; new: unknown }[] }[]; effect: { power_kw: number } }>(
      op,
      'set_power_target',
      { miner: id, watt: target, dry_run: true },
    );
    expect(dry.s.dry_run).toBe(true);
    expect(dry.s.miners[0]!.status).toBe('would_apply');
    expect(dry.s.miners[0]!.changes.find(c => c.field.includes('power'))).toMatchObject({ current: before.power_target_w, new: target });
    expect(dry.s.effect.power_kw).toBeLessThan(0);
    expect(dry.text).toMatch(/Nothing was changed/);
    expect(minerState(h.fleet, id)).toEqual(before);

    const done = await call<{ mode: string; miners: { status: string }[] }>(op, 'set_power_target', { miner: id, watt: target });
    expect(done.s.mode).toBe('inline');
    expect(done.s.miners[0]!.status).toBe('ok');
    expect(h.fleet.truth(id).power_target_w).toBe(target);
  });

  it("a target outside the miner's own range is refused for that miner, naming the range", async () => {
    const id = ids[1]!;
    const before = minerState(h.fleet, id);
    // One named miner refusing is a tool error (REST: 422) carrying the miner and its reason.
    const refused = await callError(op, 'set_power_target', { miner: id, watt: 99_000 });
    expect(refused).toMatch(/^unsupported: /);
    expect(refused).toContain(id);
    expect(refused).toMatch(/\d+.*W/);
    const dry = await call<{ miners: { status: string; message: string }[] }>(op, 'set_power_target', { miner: id, watt: 99_000, dry_run: true });
    expect(dry.s.miners[0]!.status).toBe('invalid');
    expect(dry.text).toContain(dry.s.miners[0]!.message);
    expect(minerState(h.fleet, id)).toEqual(before);
  });

  it('a job whose miners refuse the change says why in its text summary, and get_job does too', async () => {
    const pair = [ids[0]!, ids[1]!];
    const before = pair.map(id => minerState(h.fleet, id));
    const r = await call<{ mode: string; job: { id: string; status: string } }>(op, 'set_power_target', {
      selector: { ids: pair },
      watt: 99_000,
      wait_s: 30,
    });
    expect(r.s.mode).toBe('job');
    expect(r.text).toMatch(/invalid on \S+.*: power target 99000 W is outside/);
    const job = await call(op, 'get_job', { id: r.s.job.id });
    expect(job.text).toMatch(/invalid on \S+ .*and 1 more: power target 99000 W is outside/);
    expect(pair.map(id => minerState(h.fleet, id))).toEqual(before);
  });

  it('miner_action on a selector runs as a job that the tool follows, then resume puts them back', async () => {
    const site = h.fleet.truth(ids[2]!).site;
    const inSite = ids.filter(id => h.fleet.truth(id).site === site);
    const paused = await call<{ mode: string; job: { id: string; status: string }; matched: number }>(op, 'miner_action', {
      action: 'pause',
      selector: { site, status: 'online' },
      wait_s: 30,
    });
    expect(paused.s.mode).toBe('job');
    expect(paused.s.job.status).toBe('succeeded');
    for (const id of inSite) expect(h.fleet.truth(id).status).toBe('MINER_STATUS_PAUSED');
    const job = await call<{ results_by_status: Record<string, number>; results_total: number }>(op, 'get_job', { id: paused.s.job.id });
    expect(job.s.results_by_status.ok).toBe(paused.s.matched);
    const jobs = await call<{ items: { id: string }[] }>(op, 'list_jobs');
    expect(jobs.s.items.map(j => j.id)).toContain(paused.s.job.id);
    expect(await callError(op, 'cancel_job', { id: paused.s.job.id })).toMatch(/already ended/);

    await call(op, 'miner_action', { action: 'resume', selector: { ids: inSite }, wait_s: 30 });
    for (const id of inSite) expect(h.fleet.truth(id).status).toBe('MINER_STATUS_NORMAL');
  });

  it('set_pools sends the password to the miner and never echoes it', async () => {
    const id = ids[3]!;
    const groups = [{ name: 'main', pools: [{ url: 'stratum+tcp://pool.test.example:3333', user: 'acme.worker1', password: 'hunter2-secret' }] }];
    const dry = await call(op, 'set_pools', { miner: id, groups, dry_run: true });
    expect(JSON.stringify(dry.s) + dry.text).not.toContain('hunter2-secret');
    expect(h.fleet.truth(id).pools.map(p => p.url)).not.toContain('stratum+tcp://pool.test.example:3333');
    const done = await call<{ miners: { status: string }[] }>(op, 'set_pools', { miner: id, groups });
    expect(done.s.miners[0]!.status).toBe('ok');
    expect(JSON.stringify(done.s) + done.text).not.toContain('hunter2-secret');
    expect(h.fleet.truth(id).pools.map(p => `${p.url}|${p.user}`)).toEqual(['stratum+tcp://pool.test.example:3333|acme.worker1']);
    expect(await callError(op, 'set_pools', { miner: id, op: 'remove' })).toMatch(/uid/);
    // Schemes bosminer does not take are refused up front, naming the accepted ones (#14 item 8).
    const tls = [{ name: 'main', pools: [{ url: 'stratum+tls://pool.test.example:3333', user: 'acme.worker1' }] }];
    expect(await callError(op, 'set_pools', { miner: id, groups: tls })).toMatch(/stratum\+tcp.*stratum\+ssl.*stratum2\+tcp/);
  });

  it('cooling and hashboards dry runs plan without changes; a missing target says what to give', async () => {
    const id = ids[4]!;
    const before = fleetState(h.fleet);
    const cool = await call<{ miners: { status: string }[] }>(op, 'set_cooling_mode', { miner: id, mode: 'manual', fan_speed_ratio: 0.8, dry_run: true });
    expect(cool.s.miners[0]!.status).toBe('would_apply');
    const boards = await call<{ miners: { status: string }[] }>(op, 'set_hashboards', { miner: id, enable: false, hashboard_ids: ['1'], dry_run: true });
    expect(boards.s.miners[0]!.status).toBe('would_apply');
    expect(await callError(op, 'miner_action', { action: 'reboot' })).toMatch(/give miner .* or selector/);
    expect(await callError(op, 'miner_action', { action: 'reboot', selector: {} })).toMatch(/all: true/);
    expect(fleetState(h.fleet)).toEqual(before);
  });
});

describe('schedules', () => {
  it('set_power_schedule dry run shows windows and effect; create, list and remove', async () => {
    const before = fleetState(h.fleet);
    // Miners of the other site: the site paused and resumed above may still show paused in the snapshots.
    const sel = ids.filter(id => h.fleet.truth(id).site !== h.fleet.truth(ids[2]!).site).slice(0, 3);
    const args = { name: 'evening peak', selector: { ids: sel }, cron: '0 17 * * 1-5', timezone: 'Europe/Prague', duration: '3h', action: 'pause' };
    const dry = await call<{ dry_run: boolean; next_windows: { start: string; end: string }[]; matched: number; effect: { power_kw: number } }>(
      op,
      'set_power_schedule',
      { ...args, dry_run: true },
    );
    expect(dry.s.next_windows).toHaveLength(3);
    expect(Date.parse(dry.s.next_windows[0]!.end) - Date.parse(dry.s.next_windows[0]!.start)).toBe(3 * 3_600_000);
    expect(dry.s.matched).toBe(sel.length);
    expect(dry.s.effect.power_kw).toBeLessThan(0);
    expect((await call<{ total: number }>(op, 'list_power_schedules')).s.total).toBe(0);
    const made = await call<{ schedule: { id: string } }>(op, 'set_power_schedule', args);
    const list = await call<{ items: { id: string; name: string; next_start: string }[] }>(op, 'list_power_schedules');
    expect(list.s.items.map(s => s.id)).toEqual([made.s.schedule.id]);
    expect(await callError(op, 'set_power_schedule', { ...args, cron: '99 * * * *' })).toMatch(/cron/);
    const removed = await call<{ removed: boolean }>(op, 'remove_power_schedule', { id: made.s.schedule.id });
    expect(removed.s.removed).toBe(true);
    expect((await call<{ total: number }>(op, 'list_power_schedules')).s.total).toBe(0);
    expect(fleetState(h.fleet)).toEqual(before);
  });
});

describe('performance baseline', () => {
  it('reads the efficiency profile where the API offers it, changing nothing', async () => {
    const id = ids[5]!;
    const before = minerState(h.fleet, id);
    const r = await call<{ method: string; points: { power_target_w: number; efficiency_jth: number | null }[]; best: unknown }>(
      op,
      'run_performance_baseline',
      { miner: id },
    );
    expect(r.s.method).toBe('efficiency_profile');
    expect(r.s.points.length).toBeGreaterThan(2);
    expect(r.s.best).not.toBeNull();
    expect(minerState(h.fleet, id)).toEqual(before);
  });

  it('steps through power targets with progress and restores the original target', async () => {
    const id = ids[6]!;
    const original = h.fleet.truth(id).power_target_w;
    const dry = await call<{ method: string; plan: string; estimated_s: number }>(op, 'run_performance_baseline', {
      miner: id,
      method: 'stepping',
      dry_run: true,
    });
    expect(dry.s.method).toBe('stepping');
    expect(dry.s.plan).toMatch(/restore the original power target/);
    expect(h.fleet.truth(id).power_target_w).toBe(original);

    const progress: number[] = [];
    const seen = new Set<number>();
    const r = await op.callTool(
      { name: 'run_performance_baseline', arguments: { miner: id, method: 'stepping', targets_w: [original - 400, original - 200], settle_s: 1, sample_s: 2 } },
      {
        onprogress: p => {
          progress.push(p.progress);
          // what the miner was set to while the baseline ran
          seen.add(h.fleet.truth(id).power_target_w);
        },
        timeout: 60_000,
      },
    );
    const s = r.structuredContent as { points: { power_target_w: number; hashrate_ths: number | null; efficiency_jth: number | null }[]; restored: boolean };
    expect(r.isError).toBeFalsy();
    expect(s.points.map(p => p.power_target_w)).toEqual([original - 400, original - 200]);
    expect(s.points.every(p => p.hashrate_ths !== null && p.efficiency_jth !== null)).toBe(true);
    expect(s.restored).toBe(true);
    expect(progress.length).toBeGreaterThanOrEqual(2);
    expect(seen.has(original - 400)).toBe(true);
    expect(h.fleet.truth(id).power_target_w).toBe(original);
  });
});

describe('firmware rollout', () => {
  it('plans a dry run, then streams progress and is cancelled with the call', async () => {
    await h.plane.firmware.upload(h.admin, { name: 'bos-26.06.img', version: NEW_FW }, buildFirmwareImage({ version: NEW_FW }));
    const targets = ids.slice(-3);
    const before = Object.fromEntries(targets.map(id => [id, h.fleet.truth(id).firmware]));
    const args = {
      version: NEW_FW,
      selector: { ids: targets },
      canary_size: 1,
      wave_size: 1,
      parallelism: 1,
      gate_timeout_s: 10,
      miner_timeout_s: 20,
      poll_interval_s: 0.1,
    };
    const dry = await call<{ dry_run: boolean; waves_total: number; waves: { kind: string; miners: number }[] }>(op, 'start_firmware_rollout', {
      ...args,
      dry_run: true,
    });
    expect(dry.s).toMatchObject({ dry_run: true, waves_total: 3 });
    expect(dry.s.waves[0]!.kind).toBe('canary');
    expect(targets.map(id => h.fleet.truth(id).firmware)).toEqual(targets.map(id => before[id]));
    expect(await callError(op, 'start_firmware_rollout', { ...args, version: '2099-01-01-0-00000000-99.01-plus' })).toMatch(/stored images: 2026-06-01/);

    const ac = new AbortController();
    const notes: { progress: number; message?: string }[] = [];
    const call$ = op.callTool(
      { name: 'start_firmware_rollout', arguments: { ...args, wait_s: 120 } },
      {
        signal: ac.signal,
        timeout: 120_000,
        resetTimeoutOnProgress: true,
        onprogress: p => {
          notes.push({ progress: p.progress, ...(p.message ? { message: p.message } : {}) });
          // Cancel once the canary is done and the next wave has begun.
          if (p.progress >= 1 && !ac.signal.aborted) ac.abort();
        },
      },
    );
    await expect(call$).rejects.toThrow();
    expect(notes.length).toBeGreaterThanOrEqual(2);
    expect(notes.map(n => n.progress)).toEqual([...notes.map(n => n.progress)].sort((a, b) => a - b));
    expect(notes.some(n => /running/.test(n.message ?? ''))).toBe(true);

    const jobs = await h.plane.jobs.list(h.operator, { type: 'firmware-rollout' });
    const job = jobs.items[0]!;
    const end = await h.plane.jobs.waitUntilFinished(h.operator, job.id, 60_000);
    expect(end.status).toBe('cancelled');
    // The canary was upgraded; the last wave never started.
    expect(h.fleet.truth(targets[0]!).firmware).toBe(NEW_FW);
    expect(h.fleet.truth(targets[2]!).firmware).toBe(before[targets[2]!]);
  });
});

describe('job commands', () => {
  it('pause_job, resume_job and cancel_job steer a running rollout', async () => {
    const started = await call<{ job: { id: string; status: string } }>(op, 'start_firmware_rollout', {
      version: NEW_FW,
      selector: { ids: [ids[0]!, ids[1]!] },
      canary_size: 1,
      wave_size: 1,
      parallelism: 1,
      gate_timeout_s: 10,
      miner_timeout_s: 20,
      poll_interval_s: 0.1,
      wait_s: 0,
    });
    const id = started.s.job.id;
    expect((await call<{ job: { status: string } }>(op, 'pause_job', { id })).s.job.status).toBe('paused');
    expect(['running', 'queued']).toContain((await call<{ job: { status: string } }>(op, 'resume_job', { id })).s.job.status);
    expect(await callError(op, 'resume_job', { id })).toMatch(/not paused/);
    expect((await call<{ job: { status: string } }>(op, 'cancel_job', { id })).s.job.status).toBe('cancelling');
    const end = await h.plane.jobs.waitUntilFinished(h.operator, id, 60_000);
    expect(end.status).toBe('cancelled');
    const detail = await call<{ status: string; results_by_status: Record<string, number>; steps: { message: string }[] }>(op, 'get_job', { id });
    expect(detail.s.status).toBe('cancelled');
    expect(detail.s.steps.length).toBeGreaterThan(0);
  });

  it('set_hashrate_target: dry run plans, the real call applies', async () => {
    const id = ids[2]!;
    const before = minerState(h.fleet, id);
    const dry = await call<{ miners: { status: string; changes: { field: string }[] }[] }>(op, 'set_hashrate_target', {
      miner: id,
      percent: 90,
      reference: 'nominal',
      dry_run: true,
    });
    expect(dry.s.miners[0]!.status).toBe('would_apply');
    expect(minerState(h.fleet, id)).toEqual(before);
    const done = await call<{ miners: { status: string }[] }>(op, 'set_hashrate_target', { miner: id, percent: 90, reference: 'nominal' });
    expect(done.s.miners[0]!.status).toBe('ok');
    expect(minerState(h.fleet, id)).not.toEqual(before);
  });
});

describe('admin tools', () => {
  it('an operator does not get them; an admin registers, scans and unregisters', async () => {
    await expect(op.callTool({ name: 'register_miner', arguments: { address: '10.9.9.9' } })).rejects.toThrow(/register_miner/);
    // Instance-wide `default` is not shared with tenants here (MINER_SHARED_CREDENTIALS): the admin uses its own.
    expect(await callError(admin, 'register_miner', { address: '10.99.0.7', id: 'new-rig-1', site: 'site-9' })).toMatch(/MINER_SHARED_CREDENTIALS/);
    await h.plane.inventory.putCredentials(h.admin, 'rigs', { username: 'root', password: 'root' });
    const reg = await call<{ miner: { id: string; state: string } }>(admin, 'register_miner', { address: '10.99.0.7', id: 'new-rig-1', site: 'site-9', credentials: 'rigs' });
    expect(reg.s.miner).toMatchObject({ id: 'new-rig-1', state: 'pending' });
    const inv = await h.plane.inventory.listMiners(h.admin);
    expect(inv.items.map(m => m.id)).toContain('new-rig-1');
    expect(await callError(admin, 'scan_network', { cidr: '10.0.0.0/8' })).toMatch(/at most a \/16/);
    const scan = await call<{ cidr: string; site: string }>(admin, 'scan_network', { cidr: '10.99.1.0/24', site: 'site-9', credentials: 'rigs' });
    expect(scan.s).toMatchObject({ cidr: '10.99.1.0/24', site: 'site-9' });
    const dry = await call<{ removed: boolean }>(admin, 'unregister_miner', { miner: 'new-rig-1', dry_run: true });
    expect(dry.s.removed).toBe(false);
    await call(admin, 'unregister_miner', { miner: 'new-rig-1' });
    expect((await h.plane.inventory.listMiners(h.admin)).items.map(m => m.id)).not.toContain('new-rig-1');
    expect(await callError(admin, 'unregister_miner', { miner: ids[0]! })).toMatch(/inventory file/);
  });

  it('factory_reset needs confirm equal to the id; dry run changes nothing; then it resets', async () => {
    const id = ids[ids.length - 1]!;
    await call(op, 'set_power_target', { miner: id, watt: h.fleet.truth(id).power_target_w - 200 });
    const before = minerState(h.fleet, id);
    expect(await callError(admin, 'factory_reset', { miner: id, confirm: 'yes' })).toMatch(/confirm: must equal the miner id/);
    const dry = await call<{ dry_run: boolean; done: boolean }>(admin, 'factory_reset', { miner: id, confirm: id, dry_run: true });
    expect(dry.s).toMatchObject({ dry_run: true, done: false });
    expect(minerState(h.fleet, id)).toEqual(before);
    const uptimeBefore_s = h.fleet.truth(id).uptime_s;
    const done = await call<{ done: boolean }>(admin, 'factory_reset', { miner: id, confirm: id });
    expect(done.s.done).toBe(true);
    // The reboot itself lasts under a second, too short to catch by polling on a loaded machine; a reset uptime proves it.
    await waitFor('the reset miner to come back rebooted', () => {
      const t = h.fleet.truth(id);
      return t.reachable && t.booted && t.uptime_s < uptimeBefore_s;
    });
    expect(h.fleet.truth(id).power_target_w).not.toBe(before.power_target_w);
    const events = await call<{ items: { message: string; actor: string | null }[] }>(admin, 'get_events', { miner: id, kind: 'control_action' });
    expect(events.s.items.some(e => /factory reset/.test(e.message) && e.actor === h.admin.sub)).toBe(true);
  });
});
});
