import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { startCollector, type CollectorHandle } from '../../collector/collector-service.ts';
import { parseConfig } from '../../runtime/config-loader.ts';
import { collectorConfigSchema } from '../../collector/config.ts';
import { silentLogger } from '../../runtime/logger.ts';
import { freePort } from '../../demo/local-services.ts';
import { startSimulator, type SimulatedFleet } from '../../simulator/index.ts';
import { runPanelQueries } from '../../dashboards/grafana/panel-queries.ts';

// A real Prometheus (Debian's binary, loopback, temp dir) scrapes a running collector over a
// simulated fleet, evaluating our alert rules. Only the `for:` durations are shortened (the
// expressions, labels and annotations are the shipped ones), so faults injected into the
// simulator make the matching alerts fire within seconds.
let fleet: SimulatedFleet;
let collector: CollectorHandle;
let prom: ChildProcess;
let promUrl: string;
const db = `t_${randomUUID().slice(0, 8)}`;
const sleep = (ms: number): Promise<void> => new Promise(r => setTimeout(r, ms));

interface Alert {
  labels: Record<string, string>;
  annotations: Record<string, string>;
  state: string;
}

async function alerts(): Promise<Alert[]> {
  const r = await fetch(`${promUrl}/api/v1/alerts`);
  return ((await r.json()) as { data: { alerts: Alert[] } }).data.alerts;
}

beforeAll(async () => {
  fleet = await startSimulator({ miners: 24, seed: 21, sites: 2, baseAddress: '127.21.0.1', thermalTauMs: 500, warmupMs: 200, models: 's19jpro:100' });
  const dir = mkdtempSync(join(tmpdir(), 'prom-e2e-'));
  const inventory = join(dir, 'inventory.yaml');
  await fleet.writeInventory(inventory);
  collector = await startCollector(
    parseConfig(collectorConfigSchema, {
      INFLUX_URL: inject('influxUrl'),
      INFLUX_DB: db,
      REDIS_URL: inject('redisUrl'),
      REDIS_PREFIX: `t-${randomUUID().slice(0, 8)}`,
      COLLECTOR_INVENTORY_FILE: inventory,
      COLLECTOR_POLL_INTERVAL_MS: '1000',
      COLLECTOR_RPC_TIMEOUT_MS: '800',
      COLLECTOR_OFFLINE_AFTER_MISSES: '1',
      COLLECTOR_HTTP_PORT: '0',
    }),
    { log: silentLogger(), env: { MINER_PASSWORD: 'root' } },
  );

  const rules = parse(readFileSync('dashboards/prometheus/alerts.yml', 'utf8')) as { groups: { interval?: string; rules: { for?: string }[] }[] };
  for (const g of rules.groups) {
    g.interval = '1s';
    for (const r of g.rules) if (r.for) r.for = '2s';
  }
  writeFileSync(join(dir, 'alerts.yml'), stringify(rules));
  writeFileSync(
    join(dir, 'prometheus.yml'),
    stringify({
      global: { scrape_interval: '1s', evaluation_interval: '1s' },
      rule_files: ['alerts.yml'],
      scrape_configs: [{ job_name: 'bosfleet-collector', static_configs: [{ targets: [`127.0.0.1:${collector.httpPort}`] }] }],
    }),
  );
  const port = await freePort();
  promUrl = `http://127.0.0.1:${port}`;
  prom = spawn('prometheus', [`--config.file=${join(dir, 'prometheus.yml')}`, `--storage.tsdb.path=${join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`, '--log.level=warn'], { stdio: 'ignore' });
  for (let i = 0; i < 100 && !(await fetch(`${promUrl}/-/ready`).then(r => r.ok, () => false)); i++) await sleep(200);
}, 60_000);

afterAll(async () => {
  prom?.kill('SIGTERM');
  await collector?.stop();
  await fleet?.stop();
});

describe('Prometheus alert rules over a live collector', () => {
  it('is quiet while the fleet is healthy', async () => {
    // Judge only once Prometheus has scraped the collector and every rule has had its `for`.
    await expect
      .poll(async () => ((await (await fetch(`${promUrl}/api/v1/query?query=${encodeURIComponent('up{job="bosfleet-collector"}')}`)).json()) as { data: { result: { value: [number, string] }[] } }).data.result[0]?.value[1], { timeout: 30_000, interval: 500 })
      .toBe('1');
    await sleep(6_000);
    const firing = (await alerts()).filter(a => a.state === 'firing').map(a => a.labels.alertname);
    expect(firing).not.toContain('MinersOverheating');
    expect(firing).not.toContain('HashboardsDown');
    expect(firing).not.toContain('PoolDead');
    expect(firing).not.toContain('MinersOfflineHigh');
    expect(firing).not.toContain('CollectorDown');
  }, 45_000);

  it('fires overheating, hashboard, dead pool and offline alerts for the faults injected', async () => {
    const site1 = fleet.miners.filter(m => m.site === fleet.miners[0]!.site);
    fleet.injectFault(site1[0]!.id, 'overheat');
    fleet.injectFault(site1[1]!.id, { kind: 'hashboard_failure', board_index: 0 });
    fleet.injectFault(site1[2]!.id, 'dead_pool');
    for (const m of site1.slice(3, 7)) fleet.injectFault(m.id, 'unreachable'); // 4 of 12 > 30 %
    const want = ['MinersOverheating', 'HashboardsDown', 'PoolDead', 'MinersOfflineHigh'];
    await expect
      .poll(async () => new Set((await alerts()).filter(a => a.state === 'firing').map(a => a.labels.alertname)), { timeout: 60_000, interval: 1_000 })
      .toSatisfy((s: Set<string>) => want.every(w => s.has(w)));
    const firing = (await alerts()).filter(a => a.state === 'firing');
    for (const name of want) {
      const a = firing.find(x => x.labels.alertname === name)!;
      expect(a.labels.site).toBe(site1[0]!.site);
      expect(a.labels.severity).toMatch(/warning|critical/);
      expect(a.annotations.summary).toBeTruthy();
      expect(a.annotations.runbook).toBeTruthy();
    }
    expect(firing.some(a => a.labels.alertname === 'MinersOfflineHigh' && a.labels.severity === 'critical')).toBe(true);
  }, 90_000);
});

// The same collector's InfluxDB data behind the Grafana dashboards: every panel, variable and
// annotation query (variables and time macros substituted as Grafana does) runs without error
// and returns data, for raw polls and the collector's own 1-minute rollups.
describe('dashboards over the collector\'s data', () => {
  const quietWhenEmpty = /control actions|share acceptance/i;
  it.each([
    ['raw polls', 'miner'],
    ['1m rollups', 'miner_1m'],
  ])('every query succeeds and returns data from %s', async (_name, source) => {
    const tenant = fleet.miners[0]!.tenant;
    const run = async (): Promise<Awaited<ReturnType<typeof runPanelQueries>>> => {
      await collector.writer.flush();
      return await runPanelQueries(inject('influxUrl'), db, 'dashboards/grafana/dashboards', { tenant: [tenant], miner: fleet.miners[0]!.id, source });
    };
    // Rates need two polls of a counter and rollups a finished minute: wait for the data, not a fixed time.
    await expect
      .poll(async () => (await run()).filter(r => r.error || (r.rows === 0 && !quietWhenEmpty.test(r.title))).map(r => `${r.dashboard} ${r.kind} ${r.title}: ${r.error ?? 'no data'}`), { timeout: 80_000, interval: 3_000 })
      .toEqual([]);
  }, 90_000);
});
