import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { freePort } from '../../demo/local-services.ts';
import { startSimulator, type SimulatedFleet } from '../../simulator/index.ts';

// `bos-fleet start` on each backend, as a home miner runs it: miners from an inventory file,
// one process, the backend visible at start, in /health/ready and /metrics; the API and one MCP
// tool answer with the token it prints; Ctrl+C stops it (and releases the data folder).
// The embedded case passes once the storage ports are merged.
let fleet: SimulatedFleet;
let inventory: string;

beforeAll(async () => {
  fleet = await startSimulator({ miners: 3, seed: 5, baseAddress: '127.83.0.1', warmupMs: 200 });
  inventory = join(mkdtempSync(join(tmpdir(), 'start-inv-')), 'miners.yaml');
  await fleet.writeInventory(inventory);
});

afterAll(async () => {
  await fleet?.stop();
});

describe.each(['influx-redis', 'embedded'] as const)('bos-fleet start --store %s', backend => {
  it('serves three miners on the API and MCP from one process, and stops on Ctrl+C', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'start-data-'));
    const env: NodeJS.ProcessEnv = { ...process.env, LOG_LEVEL: 'warn', MINER_PASSWORD: 'root', COLLECTOR_POLL_INTERVAL_MS: '1000', HOME: dataDir };
    for (const k of ['INFLUX_URL', 'REDIS_URL', 'BOSFLEET_STORE', 'BOSFLEET_DATA_DIR']) delete env[k];
    if (backend === 'influx-redis') Object.assign(env, { INFLUX_URL: inject('influxUrl'), REDIS_URL: inject('redisUrl'), INFLUX_DB: `start_${randomUUID().slice(0, 8)}`, REDIS_PREFIX: `start-${randomUUID().slice(0, 8)}` });
    const child = spawn(process.execPath, [resolve('bin/bos-fleet.ts'), 'start', '--json', '--store', backend, '--data-dir', dataDir, '--inventory', inventory, '--tenant', fleet.miners[0]!.tenant, '--port', String(await freePort()), '--metrics-port', String(await freePort())], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr!.on('data', d => (stderr = (stderr + String(d)).slice(-6_000)));
    const events: Record<string, unknown>[] = [];
    createInterface({ input: child.stdout! }).on('line', l => events.push(JSON.parse(l) as Record<string, unknown>));
    const exited = new Promise<number | null>(r => child.once('exit', c => r(c)));
    try {
      await expect.poll(() => events.find(e => e.event === 'ready'), { timeout: 60_000, interval: 200 }).toBeTruthy();
      const ready = events.find(e => e.event === 'ready') as { api: string; mcp: string; token: string; store: string; metrics: string };
      expect(ready.store).toBe(backend);
      const headers = { authorization: `Bearer ${ready.token}` };
      await expect
        .poll(async () => ((await (await fetch(`${ready.api}/api/v1/fleet/summary`, { headers })).json()) as { totals?: { miners: number; hashrate_ths: number } }).totals, { timeout: 30_000, interval: 500 })
        .toMatchObject({ miners: 3, hashrate_ths: expect.any(Number) as number });
      expect(((await (await fetch(`${ready.api}/health/ready`)).json()) as { store: { backend: string } }).store.backend).toBe(backend);
      expect(await (await fetch(`${ready.api}/metrics`)).text()).toContain(`bosfleet_store_backend_info{backend="${backend}"} 1`);
      expect(await (await fetch(ready.metrics)).text()).toContain(`bosfleet_store_backend_info{backend="${backend}"} 1`);
      const client = new Client({ name: 'start-test', version: '1.0.0' });
      await client.connect(new StreamableHTTPClientTransport(new URL(ready.mcp), { requestInit: { headers } }));
      const result = await client.callTool({ name: 'fleet_overview', arguments: {} });
      await client.close();
      expect(result.isError, JSON.stringify(result.content)).toBeFalsy();
    } finally {
      child.kill('SIGINT');
      expect(await exited, stderr).toBe(0);
    }
    expect(events.some(e => e.event === 'stopped')).toBe(true);
    expect(existsSync(join(dataDir, 'bos-fleet.lock'))).toBe(false);
  }, 120_000);
});
