import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { connect } from 'node:net';
import { createInterface } from 'node:readline';
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { describe, expect, inject, it } from 'vitest';
import { freePort } from '../../demo/local-services.ts';

// The README's one command, from a clean state (fresh working dir, database and key prefix):
// it comes up, data arrives, the API answers, one MCP tool answers, and Ctrl+C stops it cleanly.
describe('bos-fleet demo', () => {
  const accepts = (url: string): Promise<boolean> =>
    new Promise(res => {
      const u = new URL(url);
      const s = connect(Number(u.port), u.hostname);
      s.once('connect', () => (s.destroy(), res(true)));
      s.once('error', () => res(false));
    });

  it('runs the whole product and stops cleanly', async () => {
    const cwd = mkdtempSync(join(tmpdir(), 'demo-'));
    const [apiPort, metricsPort] = [await freePort(), await freePort()];
    const child = spawn(process.execPath, [resolve('bin/bos-fleet.ts'), 'demo', '--json', '--miners', '12', '--port', String(apiPort), '--metrics-port', String(metricsPort)], {
      cwd,
      env: { ...process.env, INFLUX_URL: inject('influxUrl'), REDIS_URL: inject('redisUrl'), INFLUX_DB: `demo_${randomUUID().slice(0, 8)}`, REDIS_PREFIX: `demo-${randomUUID().slice(0, 8)}`, COLLECTOR_POLL_INTERVAL_MS: '1000' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr!.on('data', d => (stderr = (stderr + String(d)).slice(-4000)));
    const lines = createInterface({ input: child.stdout! });
    const events: Record<string, unknown>[] = [];
    lines.on('line', l => events.push(JSON.parse(l) as Record<string, unknown>));
    const exited = new Promise<number | null>(r => child.once('exit', code => r(code)));
    try {
      await expect.poll(() => events.find(e => e.event === 'ready'), { timeout: 60_000, interval: 200 }).toBeTruthy();
      const ready = events.find(e => e.event === 'ready') as { api: string; mcp: string; token: string; miners: number; metrics: string };
      const headers = { authorization: `Bearer ${ready.token}` };
      await expect
        .poll(async () => ((await (await fetch(`${ready.api}/api/v1/fleet/summary`, { headers })).json()) as { totals?: { miners: number; hashrate_ths: number } }).totals?.hashrate_ths ?? 0, { timeout: 30_000, interval: 500 })
        .toBeGreaterThan(0);
      const summary = (await (await fetch(`${ready.api}/api/v1/fleet/summary`, { headers })).json()) as { totals: { miners: number } };
      expect(summary.totals.miners).toBeGreaterThan(0);
      expect((await fetch(ready.metrics)).status).toBe(200);
      // the printed console link logs in once (a session cookie), then is spent
      const link = (ready as unknown as { console_login: string }).console_login;
      const login = await fetch(link, { redirect: 'manual' });
      expect(login.status).toBe(303);
      expect(login.headers.get('set-cookie')).toMatch(/bosfleet_session=[\w-]+; Path=\/; HttpOnly; SameSite=Strict/);
      expect((await fetch(link, { redirect: 'manual' })).status).toBe(401);

      const client = new Client({ name: 'demo-test', version: '1.0.0' });
      await client.connect(new StreamableHTTPClientTransport(new URL(ready.mcp), { requestInit: { headers } }));
      const result = await client.callTool({ name: 'fleet_overview', arguments: {} });
      expect(result.isError).toBeFalsy();
      expect(JSON.stringify(result.structuredContent)).toMatch(/hashrate_ths/);
      await client.close();
    } finally {
      child.kill('SIGINT');
      const code = await exited;
      expect(code, stderr).toBe(0);
      expect(events.some(e => e.event === 'stopped')).toBe(true);
    }
  }, 120_000);

  it('Ctrl+C in a terminal stops it within seconds, its own InfluxDB and Redis included', async () => {
    // The terminal sends SIGINT to the whole foreground process group. The local servers run in
    // their own group, so they outlive the signal until the collector has flushed to them.
    const cwd = mkdtempSync(join(tmpdir(), 'demo-'));
    const [apiPort, metricsPort] = [await freePort(), await freePort()];
    const env: Record<string, string | undefined> = { ...process.env, COLLECTOR_POLL_INTERVAL_MS: '1000' };
    delete env.INFLUX_URL;
    delete env.REDIS_URL;
    const child = spawn(process.execPath, [resolve('bin/bos-fleet.ts'), 'demo', '--store', 'influx-redis', '--json', '--miners', '4', '--port', String(apiPort), '--metrics-port', String(metricsPort)], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    let stderr = '';
    child.stderr!.on('data', d => (stderr = (stderr + String(d)).slice(-4000)));
    const events: Record<string, unknown>[] = [];
    createInterface({ input: child.stdout! }).on('line', l => events.push(JSON.parse(l) as Record<string, unknown>));
    const exited = new Promise<number | null>(r => child.once('exit', code => r(code)));
    let ready: { influx: string; redis: string; metrics: string } | undefined;
    try {
      await expect.poll(() => events.find(e => e.event === 'ready'), { timeout: 60_000, interval: 200 }).toBeTruthy();
      ready = events.find(e => e.event === 'ready') as typeof ready;
      // Let a poll cycle put points in the writer, so the stop has something to flush.
      await expect.poll(async () => (await (await fetch(ready!.metrics)).text()).match(/^bosfleet_polls_total\{[^}]*result="ok"[^}]*\} [1-9]/m) !== null, { timeout: 30_000, interval: 500 }).toBe(true);
    } finally {
      const startedMs = Date.now();
      process.kill(-child.pid!, 'SIGINT');
      const code = await exited;
      const stopMs = Date.now() - startedMs;
      expect(code, stderr).toBe(0);
      expect(stopMs, stderr).toBeLessThan(10_000);
      expect(stderr).not.toMatch(/write failed|connection error/i);
    }
    expect(await accepts(ready!.influx)).toBe(false);
    expect(await accepts(ready!.redis)).toBe(false);
  }, 120_000);
});
