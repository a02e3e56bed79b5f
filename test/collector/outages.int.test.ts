import { randomUUID } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { startCollector, type CollectorHandle } from '../../collector/collector-service.ts';
import { parseConfig } from '../../runtime/config-loader.ts';
import { collectorConfigSchema } from '../../collector/config.ts';
import { InfluxClient, rowsOf } from '../../store/influx-redis/influx-client.ts';
import { silentLogger } from '../../runtime/logger.ts';
import { startLocalInflux, startLocalRedis, type LocalService } from '../../demo/local-services.ts';
import { startSimulator, type SimulatedFleet } from '../../simulator/index.ts';

// Outages need servers the test may stop, so this file starts its own InfluxDB and Redis
// (Debian binaries on loopback) instead of the shared ones. Farm backend only: the embedded
// store is a file in the collector's own process, with no server to lose (its hard-kill case is
// test/e2e/embedded-restart.e2e.test.ts).
const sleep = (ms: number): Promise<void> => new Promise(r => setTimeout(r, ms));

function configFor(influxUrl: string, redisUrl: string, inventory: string, extra: Record<string, string> = {}) {
  return parseConfig(collectorConfigSchema, {
    INFLUX_URL: influxUrl,
    INFLUX_DB: 'outage',
    REDIS_URL: redisUrl,
    REDIS_PREFIX: `t-${randomUUID().slice(0, 8)}`,
    COLLECTOR_INVENTORY_FILE: inventory,
    COLLECTOR_POLL_INTERVAL_MS: '1000',
    COLLECTOR_RPC_TIMEOUT_MS: '800',
    COLLECTOR_HTTP_PORT: '0',
    INFLUX_FLUSH_INTERVAL_MS: '200',
    INFLUX_MAX_RETRY_DELAY_MS: '2000',
    ...extra,
  });
}

describe('collector through outages', () => {
  let fleet: SimulatedFleet;
  let inventory: string;
  beforeAll(async () => {
    // A 4 s reboot spans at least two missed 1 s polls (offline) even when a loaded machine delays a poll.
    fleet = await startSimulator({ miners: 20, seed: 5, baseAddress: '127.12.0.1', rebootMs: 4_000, warmupMs: 200 });
    inventory = join(mkdtempSync(join(tmpdir(), 'outage-')), 'inventory.json');
    await fleet.writeInventory(inventory);
  });
  afterAll(async () => fleet?.stop());

  it('loses no point while InfluxDB is down for 20 s', async () => {
    const influxSvc: LocalService = await startLocalInflux();
    let collector: CollectorHandle | null = null;
    try {
      collector = await startCollector(configFor(influxSvc.url, inject('redisUrl'), inventory), { log: silentLogger(), http: false, env: { MINER_PASSWORD: 'root' } });
      await sleep(3_000);
      await influxSvc.stop();
      await sleep(20_000);
      expect(collector.writer.stats().pending).toBeGreaterThan(0); // buffered, not lost
      await influxSvc.start();
      await sleep(2_000);
      const ok = async (): Promise<number> => {
        const m = await collector!.metrics.polls.get();
        return m.values.reduce((a, v) => a + v.value, 0);
      };
      await collector.stop();
      const polls = await ok();
      collector = null;
      const influx = new InfluxClient({ url: influxSvc.url, db: 'outage', auth: 'none', flavour: '1' });
      const [row] = rowsOf(await influx.query('SELECT count(up) FROM miner'));
      // One `miner` point per poll, none dropped.
      expect(Number(row!.count)).toBe(polls);
      expect(polls).toBeGreaterThan(20 * 20);
    } finally {
      await collector?.stop();
      await influxSvc.destroy();
    }
  }, 90_000);

  it('keeps writing InfluxDB while Redis is down and rebuilds snapshots after', async () => {
    const redisSvc = await startLocalRedis();
    const db = `t_${randomUUID().slice(0, 8)}`;
    const collector = await startCollector(configFor(inject('influxUrl'), redisSvc.url, inventory, { INFLUX_DB: db }), { log: silentLogger(), http: false, env: { MINER_PASSWORD: 'root' } });
    const influx = new InfluxClient({ url: inject('influxUrl'), db, auth: 'none', flavour: '1' });
    const count = async (): Promise<number> => Number(rowsOf(await influx.query('SELECT count(up) FROM miner'))[0]?.count ?? 0);
    try {
      await sleep(2_000);
      await redisSvc.stop(); // data is gone with it: --save '' and a restart from empty
      const before = await count();
      await sleep(4_000);
      await collector.writer.flush();
      expect(await count()).toBeGreaterThan(before + 20 * 2);
      await redisSvc.start();
      const id = fleet.miners[0]!.id;
      await expect.poll(async () => (await collector.state.snapshot(id).catch(() => null))?.status, { timeout: 20_000, interval: 500 }).toBe('online');
      await expect.poll(async () => (await collector.state.minersOf({ tenant: fleet.miners[0]!.tenant }).catch(() => [])).length, { timeout: 10_000, interval: 500 }).toBe(fleet.miners.filter(m => m.tenant === fleet.miners[0]!.tenant).length);
    } finally {
      await collector.stop();
      await redisSvc.destroy();
      await influx.query(`DROP DATABASE "${db}"`).catch(() => undefined);
    }
  }, 90_000);

  it('counts a miner rebooting mid-run as missed polls, then sees it back with a reboot event', async () => {
    const db = `t_${randomUUID().slice(0, 8)}`;
    const collector = await startCollector(configFor(inject('influxUrl'), inject('redisUrl'), inventory, { INFLUX_DB: db, COLLECTOR_OFFLINE_AFTER_MISSES: '2' }), { log: silentLogger(), http: false, env: { MINER_PASSWORD: 'root' } });
    const id = fleet.miners[3]!.id;
    try {
      await sleep(2_000);
      fleet.rebootMiner(id);
      await expect.poll(async () => (await collector.state.snapshot(id))?.status, { timeout: 8_000, interval: 250 }).toBe('offline');
      await expect.poll(async () => (await collector.state.snapshot(id))?.status, { timeout: 20_000, interval: 250 }).toBe('online');
      await collector.writer.flush();
      const influx = new InfluxClient({ url: inject('influxUrl'), db, auth: 'none', flavour: '1' });
      await expect
        .poll(async () => rowsOf(await influx.query(`SELECT message FROM event WHERE miner = '${id}'`)).map(r => String(r.message)).join('\n'), { timeout: 15_000, interval: 500 })
        .toMatch(/stopped answering[\s\S]*reachable again/);
      const down = rowsOf(await influx.query(`SELECT count(up) FROM miner WHERE miner = '${id}' AND up = 0`));
      expect(Number(down[0]?.count)).toBeGreaterThan(0);
      await influx.query(`DROP DATABASE "${db}"`);
    } finally {
      await collector.stop();
    }
  }, 60_000);

  it('picks up inventory changes without a restart, skipping malformed entries', async () => {
    const db = `t_${randomUUID().slice(0, 8)}`;
    const dir = mkdtempSync(join(tmpdir(), 'inv-'));
    const file = join(dir, 'inventory.yaml');
    const [a, b] = fleet.miners;
    writeFileSync(file, `miners:\n  - { id: ${a!.id}, address: ${a!.host} }\n  - { id: broken }\n`);
    const collector = await startCollector(configFor(inject('influxUrl'), inject('redisUrl'), file, { INFLUX_DB: db }), { log: silentLogger(), http: false, env: { MINER_PASSWORD: 'root' } });
    try {
      expect([...collector.scheduler.trackers.keys()]).toEqual([a!.id]);
      const text = await collector.metrics.registry.getSingleMetricAsString('bosfleet_inventory_errors_total');
      expect(text).toMatch(/source="file"\} 1/);
      await sleep(50);
      writeFileSync(file, `miners:\n  - { id: ${a!.id}, address: ${a!.host} }\n  - { id: ${b!.id}, address: ${b!.host} }\n`);
      await expect.poll(() => [...collector.scheduler.trackers.keys()].sort(), { timeout: 6_000, interval: 200 }).toEqual([a!.id, b!.id].sort());
      await expect.poll(async () => (await collector.state.snapshot(b!.id))?.status, { timeout: 6_000, interval: 200 }).toBe('online');
    } finally {
      await collector.stop();
    }
  }, 30_000);

  it('finishes a scan of an empty range quickly and finds the simulated miners in another', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'scan-'));
    const file = join(dir, 'inventory.yaml');
    writeFileSync(file, `scans:\n  - { cidr: 127.99.0.0/28 }\n  - { cidr: 127.12.0.0/27 }\n`);
    const db = `t_${randomUUID().slice(0, 8)}`;
    const collector = await startCollector(configFor(inject('influxUrl'), inject('redisUrl'), file, { INFLUX_DB: db, COLLECTOR_SCAN_TIMEOUT_MS: '500' }), { log: silentLogger(), http: false, env: { MINER_PASSWORD: 'root' } });
    try {
      const expected = fleet.miners.filter(m => m.host.startsWith('127.12.0.') && Number(m.host.split('.')[3]) < 31).length;
      await expect.poll(() => collector.scheduler.trackers.size, { timeout: 10_000, interval: 200 }).toBe(expected);
    } finally {
      await collector.stop();
    }
  }, 30_000);
});
