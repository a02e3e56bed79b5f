import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort } from '../../demo/local-services.ts';
import { openEmbeddedStore } from '../../store/embedded/index.ts';

// The embedded store under a hard kill: the demo (collector, API, jobs, schedules on one data
// folder) collects a few cycles, is SIGKILLed, and the folder is then read directly and started
// again. What was committed stays: series up to about one flush interval before the kill, the
// job, the schedule and the audit trail; the stale lock of the dead process does not block the
// restart. (A second process beside a live one is refused in start-stop.e2e.test.ts.)

const CLI = resolve('bin/bos-fleet.ts');
const POLL_MS = 1_000;
/** the embedded series writer commits every second (store/embedded/series.ts default) */
const FLUSH_MS = 1_000;
const dataDir = mkdtempSync(join(tmpdir(), 'embedded-restart-'));
const children: ChildProcess[] = [];

afterAll(() => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) process.kill(-c.pid!, 'SIGKILL');
  rmSync(dataDir, { recursive: true, force: true });
});

interface Ready {
  api: string;
  metrics: string;
  token: string;
  tenant: string;
}

async function startDemo(): Promise<{ child: ChildProcess; ready: Ready; exited: Promise<unknown>; err: () => string }> {
  const env: NodeJS.ProcessEnv = { ...process.env, COLLECTOR_POLL_INTERVAL_MS: String(POLL_MS), LOG_LEVEL: 'warn' };
  for (const k of ['INFLUX_URL', 'REDIS_URL', 'BOSFLEET_STORE', 'BOSFLEET_DATA_DIR']) delete env[k];
  const args = ['demo', '--json', '--miners', '4', '--data-dir', dataDir, '--port', String(await freePort()), '--metrics-port', String(await freePort()), '--fleet-address', '127.83.0.1'];
  const child = spawn(process.execPath, [CLI, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  children.push(child);
  let stderr = '';
  child.stderr!.on('data', d => (stderr = (stderr + String(d)).slice(-4_000)));
  const lines: Record<string, unknown>[] = [];
  createInterface({ input: child.stdout! }).on('line', l => lines.push(JSON.parse(l) as Record<string, unknown>));
  const exited = new Promise(r => child.once('exit', r));
  await expect.poll(() => lines.find(l => l.event === 'ready') ?? (child.exitCode !== null ? stderr : undefined), { timeout: 60_000, interval: 100 }).toMatchObject({ event: 'ready' });
  return { child, ready: lines.find(l => l.event === 'ready') as unknown as Ready, exited, err: () => stderr };
}

function client(ready: Ready) {
  return async (method: string, path: string, body?: unknown): Promise<{ status: number; json: Record<string, unknown> }> => {
    const r = await fetch(`${ready.api}${path}`, {
      method,
      headers: { authorization: `Bearer ${ready.token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
      ...(body ? { body: JSON.stringify(body) } : {}),
    });
    return { status: r.status, json: (await r.json()) as Record<string, unknown> };
  };
}

const okPolls = async (metricsUrl: string): Promise<number> => {
  const text = await (await fetch(metricsUrl)).text();
  return [...text.matchAll(/^bosfleet_polls_total\{[^}]*result="ok"[^}]*\} (\d+)/gm)].reduce((a, m) => a + Number(m[1]), 0);
};

describe('the embedded store after SIGKILL', () => {
  it('keeps series up to about one flush interval before the kill, the job, the schedule and the audit trail', async () => {
    const first = await startDemo();
    const call = client(first.ready);
    const schedule = await call('POST', '/api/v1/schedules', { name: 'peak', selector: { all: true }, cron: '0 17 * * 1-5', duration_ms: 3_600_000, action: { type: 'pause' } });
    expect(schedule.status, JSON.stringify(schedule.json)).toBe(201);
    const scheduleId = String(schedule.json.id);
    const run = await call('POST', '/api/v1/control/actions', { selector: { all: true }, action: 'resume' });
    expect(run.status, JSON.stringify(run.json)).toBe(202);
    const jobId = String((run.json.job as { id: string }).id);
    await expect.poll(async () => (await call('GET', `/api/v1/jobs/${jobId}`)).json.status, { timeout: 30_000, interval: 250 }).toMatch(/succeeded|partially_failed|failed/);
    const jobBefore = (await call('GET', `/api/v1/jobs/${jobId}`)).json;
    // a few collection cycles after the job, so there is recent history to lose or keep
    const polls = await okPolls(first.ready.metrics);
    await expect.poll(() => okPolls(first.ready.metrics), { timeout: 30_000, interval: 250 }).toBeGreaterThanOrEqual(polls + 4 * 3);

    const killedMs = Date.now();
    process.kill(-first.child.pid!, 'SIGKILL');
    await first.exited;

    // The folder as the dead process left it (its lock names a pid that is gone).
    const store = openEmbeddedStore({ dataDir, checkpointIntervalMs: 0 });
    try {
      const tenant = first.ready.tenant;
      const points = await store.series.reader.points({ measurement: 'miner', tenant, fromMs: killedMs - 10 * 60_000, toMs: killedMs + 60_000, limit: 100_000 });
      const newest = Math.max(...points.map(p => Number(p.time)));
      // lost at most what was written after the last commit: one flush interval, plus the poll
      // that was in flight and slack for a loaded machine between its timestamp and its write
      expect(killedMs - newest).toBeLessThan(FLUSH_MS + POLL_MS + 2_000);
      // and nothing older: each miner's points are a second apart, without holes
      const byMiner = Map.groupBy(points, p => String(p.miner));
      expect(byMiner.size).toBe(4);
      for (const [miner, ps] of byMiner) {
        const times = ps.map(p => Number(p.time)).sort((a, b) => a - b);
        const gaps = times.slice(1).map((t, i) => t - times[i]!);
        expect(Math.max(...gaps), miner).toBeLessThan(3 * POLL_MS);
      }
      const job = await store.jobs.get(jobId);
      expect(job?.data.caller.tenant).toBe(tenant);
      expect(job?.finishedMs).toBeGreaterThan(0);
      expect((await store.schedules.list(tenant)).map(s => s.id)).toContain(scheduleId);
      const audit = await store.events.history(tenant, { fromMs: killedMs - 10 * 60_000, toMs: killedMs + 60_000, kind: 'control_action', limit: 100 });
      expect(audit.events.length).toBeGreaterThan(0);
    } finally {
      await store.close();
    }

    // Started again on the same folder, the API serves what the first process stored.
    const second = await startDemo();
    const again = client(second.ready);
    const jobAfter = (await again('GET', `/api/v1/jobs/${jobId}`)).json;
    expect(jobAfter.status).toBe(jobBefore.status);
    expect(((await again('GET', '/api/v1/schedules')).json.items as { id: string }[]).map(s => s.id)).toContain(scheduleId);
    const events = await again('GET', '/api/v1/events?kind=control_action&limit=50');
    expect(JSON.stringify(events.json)).toContain(jobId);
    process.kill(-second.child.pid!, 'SIGINT');
    expect(await second.exited, second.err()).toBe(0);
  }, 180_000);
});
