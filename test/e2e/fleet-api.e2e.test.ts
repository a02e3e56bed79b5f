import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { generateKeyFiles, mintToken, parsePrivateKey } from '../../api/auth/keys.ts';
import { apiConfigSchema } from '../../api/config.ts';
import { startApiServer, type ApiServer } from '../../api/server.ts';
import { fullApiExtension } from '../../api/wiring.ts';
import { startCollector, type CollectorHandle } from '../../collector/collector-service.ts';
import { parseConfig } from '../../runtime/config-loader.ts';
import { collectorConfigSchema } from '../../collector/config.ts';
import { silentLogger } from '../../runtime/logger.ts';
import { startSimulator, type SimulatedFleet } from '../../simulator/index.ts';
import { waitForFirstPolls } from '../collector/first-polls.ts';

// The whole path a user sees: simulated miners -> collector -> InfluxDB/Redis -> REST API,
// and control back through the API to the miners. Answers are compared with the simulator's
// own state, not with anything the API computed.
let fleet: SimulatedFleet;
let collector: CollectorHandle;
let api: ApiServer;
let operator: string;
let tenant: string;
const sleep = (ms: number): Promise<void> => new Promise(r => setTimeout(r, ms));

beforeAll(async () => {
  fleet = await startSimulator({ miners: 40, seed: 31, sites: 2, baseAddress: '127.31.0.1', faults: 'unreachable:2,hashboard_failure:1', warmupMs: 200, rebootMs: 1_000 });
  tenant = fleet.miners[0]!.tenant;
  const dir = mkdtempSync(join(tmpdir(), 'e2e-'));
  const inventory = join(dir, 'inventory.yaml');
  await fleet.writeInventory(inventory);
  process.env.MINER_PASSWORD ??= 'root';
  const shared = { INFLUX_URL: inject('influxUrl'), INFLUX_DB: `t_${randomUUID().slice(0, 8)}`, REDIS_URL: inject('redisUrl'), REDIS_PREFIX: `t-${randomUUID().slice(0, 8)}`, COLLECTOR_INVENTORY_FILE: inventory };
  collector = await startCollector(parseConfig(collectorConfigSchema, { ...shared, COLLECTOR_POLL_INTERVAL_MS: '1000', COLLECTOR_RPC_TIMEOUT_MS: '2000', COLLECTOR_OFFLINE_AFTER_MISSES: '2', COLLECTOR_HTTP_PORT: '0' }), { log: silentLogger(), env: process.env });
  const keys = await generateKeyFiles(join(dir, 'keys'), 'ES256');
  api = await startApiServer(parseConfig(apiConfigSchema, { ...shared, API_PORT: '0', AUTH_PUBLIC_KEY_FILE: keys.publicPath, FIRMWARE_DIR: join(dir, 'fw') }), {
    log: silentLogger(),
    handleSignals: false,
    env: { COLLECTOR_POLL_INTERVAL_MS: '1000' },
    extension: fullApiExtension(),
  });
  operator = await mintToken({ privateKey: parsePrivateKey(readFileSync(keys.privatePath, 'utf8'), 'k'), sub: 'e2e-operator', tenant, roles: ['operator'], ttlMs: 600_000, issuer: 'bos-fleet', audience: 'bos-fleet' });
  await sleep(5_000);
  await waitForFirstPolls(collector);
  await collector.flushSnapshots();
}, 60_000);

afterAll(async () => {
  await api?.close();
  await collector?.stop();
  await fleet?.stop();
});

async function call(method: string, path: string, body?: unknown): Promise<{ status: number; json: Record<string, unknown> }> {
  const r = await fetch(`${api.url}${path}`, { method, headers: { authorization: `Bearer ${operator}`, ...(body ? { 'content-type': 'application/json' } : {}) }, body: body ? JSON.stringify(body) : null });
  return { status: r.status, json: (await r.json()) as Record<string, unknown> };
}

describe('fleet API over a collected simulated fleet', () => {
  it('summarises the fleet as the simulator has it', async () => {
    const mine = fleet.miners.filter(m => m.tenant === tenant);
    const unreachable = mine.filter(m => fleet.faults(m.id).some(f => f.kind === 'unreachable'));
    const reachable = mine.filter(m => !unreachable.includes(m));
    const { status, json } = await call('GET', '/api/v1/fleet/summary');
    expect(status).toBe(200);
    const totals = json.totals as { miners: number; by_status: Record<string, number>; hashrate_ths: number; power_kw: number };
    expect(totals.miners).toBe(mine.length);
    expect(totals.by_status.offline).toBe(unreachable.length);
    const truthThs = reachable.reduce((a, m) => a + fleet.truth(m.id).hashrate_ghs, 0) / 1000;
    const truthKw = reachable.reduce((a, m) => a + fleet.truth(m.id).power_w, 0) / 1000;
    expect(Math.abs(totals.hashrate_ths - truthThs)).toBeLessThan(truthThs * 0.05);
    expect(Math.abs(totals.power_kw - truthKw)).toBeLessThan(truthKw * 0.05);
  });

  it('shows one miner with its boards, fans and pools', async () => {
    const m = fleet.miners.find(x => x.tenant === tenant && fleet.faults(x.id).length === 0)!;
    const t = fleet.truth(m.id);
    const { status, json } = await call('GET', `/api/v1/miners/${m.id}`);
    expect(status).toBe(200);
    expect(json).toMatchObject({ id: m.id, hostname: t.hostname, model: t.model, firmware: t.firmware, status: 'online' });
    expect(JSON.stringify(json)).not.toMatch(/password/i);
    const other = fleet.miners.find(x => x.tenant !== tenant);
    if (other) expect((await call('GET', `/api/v1/miners/${other.id}`)).status).toBe(404);
  });

  it('returns stored telemetry for a miner', async () => {
    const m = fleet.miners.find(x => x.tenant === tenant && fleet.faults(x.id).length === 0)!;
    const { status, json } = await call('GET', `/api/v1/miners/${m.id}/telemetry?from=now-5m&metrics=hashrate_ths,power_w`);
    expect(status).toBe(200);
    expect(JSON.stringify(json)).toMatch(/hashrate_ths/);
  });

  it('pauses exactly the miners of a site through a batch job, and the collector sees it', async () => {
    const site = fleet.miners.find(m => m.tenant === tenant)!.site;
    const targets = fleet.miners.filter(m => m.tenant === tenant && m.site === site && !fleet.faults(m.id).some(f => f.kind === 'unreachable'));
    const dry = await call('POST', '/api/v1/control/actions', { selector: { site }, action: 'pause', dry_run: true });
    expect(dry.status).toBe(200);
    expect(fleet.miners.every(m => fleet.truth(m.id).status === 'MINER_STATUS_NORMAL' || fleet.faults(m.id).length > 0)).toBe(true);
    const run = await call('POST', '/api/v1/control/actions', { selector: { site }, action: 'pause' });
    expect(run.status).toBe(202);
    const jobId = String((run.json.job as { id: string }).id);
    await expect.poll(async () => (await call('GET', `/api/v1/jobs/${jobId}`)).json.status, { timeout: 20_000, interval: 250 }).toMatch(/succeeded|partially_failed/);
    for (const m of fleet.miners) {
      const paused = fleet.truth(m.id).status === 'MINER_STATUS_PAUSED';
      expect(paused, m.id).toBe(targets.includes(m));
    }
    await expect.poll(async () => (await call('GET', `/api/v1/miners/${targets[0]!.id}`)).json.status, { timeout: 10_000, interval: 250 }).toBe('paused');
    const events = await call('GET', `/api/v1/events?kind=control_action&limit=200`);
    expect(JSON.stringify(events.json)).toContain('e2e-operator');
    await call('POST', '/api/v1/control/actions', { selector: { site }, action: 'resume' });
  }, 60_000);
});
