// The running collector against the simulator, on each store backend: restarts are named for
// what they were (system reboot, mining restart, or one the product caused), an offline miner
// keeps its model, and a wrong password is logged once, at warn.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { startCollector, type CollectorHandle } from '../../collector/collector-service.ts';
import { parseConfig } from '../../runtime/config-loader.ts';
import { collectorConfigSchema } from '../../collector/config.ts';
import { MinerClient } from '../../collector/miner-client.ts';
import type { StoredEvent } from '../../store/ports/events.ts';
import { startSimulator, type SimulatedFleet } from '../../simulator/index.ts';
import { BACKENDS, openTestStore, type TestStore } from '../store/backends.ts';

const logLines: Record<string, unknown>[] = [];
const logger = pino({ level: 'debug' }, { write: (s: string) => void logLines.push(JSON.parse(s) as Record<string, unknown>) });

function config(inventory: string) {
  return parseConfig(collectorConfigSchema, {
    INFLUX_URL: inject('influxUrl'),
    REDIS_URL: inject('redisUrl'),
    COLLECTOR_INVENTORY_FILE: inventory,
    COLLECTOR_POLL_INTERVAL_MS: '1000',
    COLLECTOR_RPC_TIMEOUT_MS: '800',
    COLLECTOR_OFFLINE_AFTER_MISSES: '2',
    COLLECTOR_HTTP_PORT: '0',
    INFLUX_FLUSH_INTERVAL_MS: '200',
  });
}

describe.each(BACKENDS)('collector truth (%s store)', backend => {
let fleet: SimulatedFleet;
let inventory: string;
let collector: CollectorHandle | null = null;
let store: TestStore;
const ids: string[] = [];

async function until<T>(what: string, f: () => T | Promise<T>, ok: (v: T) => boolean, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await f();
    if (ok(v)) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}: last ${JSON.stringify(v).slice(0, 400)}`);
    await new Promise(r => setTimeout(r, 200));
  }
}

beforeAll(async () => {
  logLines.length = 0;
  store = await openTestStore(backend);
  fleet = await startSimulator({ miners: 5, seed: 1415, baseAddress: `127.65.${Math.floor(Math.random() * 250)}.1`, rebootMs: 3_000, warmupMs: 200, retuneMs: 300, sites: 1 });
  for (const m of fleet.miners) ids.push(m.id);
  inventory = join(mkdtempSync(join(tmpdir(), 'truth-')), 'inventory.json');
  await fleet.writeInventory(inventory);
  fleet.injectFault(ids[3]!, 'unreachable');
  fleet.injectFault(ids[4]!, 'auth_reject');
  collector = await startCollector(config(inventory), { store, log: logger, http: false, env: { MINER_PASSWORD: 'root' } });
}, 30_000);
afterAll(async () => {
  await collector?.stop();
  await fleet?.stop();
  await store?.destroy();
});

// the event log as the API sees it (same Redis, same keys); the API records control actions here too
const audit = () => collector!.store.events;
const events = async (miner: string): Promise<StoredEvent[]> => audit().recent(fleet.truth(miner).tenant, { miner, limit: 50 });

  it('logs a rejected password once, at warn, naming the miner and auth_rejected', async () => {
    const t = () => collector!.scheduler.trackers.get(ids[4]!)!;
    await until('three failed polls', () => t().failures, n => n >= 3);
    const warns = logLines.filter(l => l.level === 40 && l.miner === ids[4] && JSON.stringify(l).includes('auth_rejected'));
    expect(warns).toHaveLength(1);
  });

  it('an offline miner never reached keeps the model its inventory names', async () => {
    const id = ids[3]!;
    const tenant = fleet.truth(id).tenant;
    await until('offline', () => collector!.scheduler.trackers.get(id)!.status, s => s === 'offline');
    await collector!.flushSnapshots();
    const model = fleet.truth(id).model;
    expect(await collector!.state.minersOf({ tenant, model })).toContain(id);
  });

  it('names a mining restart, a system reboot and a restart the product caused for what they were', async () => {
    const [a, b, c] = [ids[0]!, ids[1]!, ids[2]!];
    await until('first samples', () => [a, b, c].every(id => collector!.scheduler.trackers.get(id)!.lastSample !== null), v => v);
    // uptimes must first grow past the detector's 30 s of slack (the simulated miners just booted)
    await until('uptime > 40 s', () => Math.min(...[a, b, c].map(id => fleet.truth(id).bosminer_uptime_s)), s => s > 40, 90_000);
    const client = (id: string) => new MinerClient({ minerId: id, host: fleet.info(id).host, port: fleet.info(id).port, credentials: { username: 'root', password: 'root' } });

    // a: a restart asked through the product (audited as the API does), then bosminer restarts
    const ta = fleet.truth(a);
    await audit().record([{ time_ms: Date.now(), tenant: ta.tenant, site: ta.site, miner: a, kind: 'control_action', severity: 'info', message: 'restart: done', actor: 'alice', result: 'ok', data: { request: 'action', action: 'restart' } }]);
    const ca = client(a);
    await ca.unary('ActionsService', 'Restart', {});
    ca.close();
    // b: bosminer restarts with no audited action; c: the whole system reboots
    const cb = client(b);
    await cb.unary('ActionsService', 'Restart', {});
    cb.close();
    fleet.rebootMiner(c);

    const kindsOf = async (id: string) => (await events(id)).map(e => e.kind);
    await until('planned restart of a', () => kindsOf(a), k => k.includes('planned_restart'));
    await until('mining restart of b', () => kindsOf(b), k => k.includes('mining_restarted'));
    await until('reboot of c', () => kindsOf(c), k => k.includes('reboot_detected'));
    for (const k of ['reboot_detected', 'mining_restarted']) expect(await kindsOf(a)).not.toContain(k);
    expect(await kindsOf(b)).not.toContain('reboot_detected');
    expect(await kindsOf(c)).not.toContain('mining_restarted');
    const planned = (await events(a)).find(e => e.kind === 'planned_restart')!;
    expect(planned.data).toMatchObject({ restart: 'mining', action: 'restart', actor: 'alice' });
  }, 180_000);
});
