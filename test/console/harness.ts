/**
 * The console's test bed: a simulated fleet of two tenants with faults injected on chosen miners
 * of the first tenant, the real collector polling it, the real API (with the console) on a free
 * loopback port, and Debian's headless Chromium driven by playwright-core.
 */
import { randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { inject } from 'vitest';
import { generateKeyFiles, mintToken, parsePrivateKey } from '../../api/auth/keys.ts';
import { apiConfigSchema } from '../../api/config.ts';
import type { Role } from '../../services/context.ts';
import { startApiServer, type ApiServer } from '../../api/server.ts';
import { fullApiExtension } from '../../api/wiring.ts';
import type { ControlPlane } from '../../services/control/index.ts';
import { startCollector, type CollectorHandle } from '../../collector/collector-service.ts';
import { parseConfig } from '../../runtime/config-loader.ts';
import { collectorConfigSchema } from '../../collector/config.ts';
import { silentLogger } from '../../runtime/logger.ts';
import { ConsoleSessions } from '../../console/sessions.ts';
import { startSimulator, type SimulatedFleet, type SimulatedMiner } from '../../simulator/index.ts';
import { waitForFirstPolls } from '../collector/first-polls.ts';
import { toLine } from '../../store/influx-redis/line-protocol.ts';
import { MEASUREMENTS } from '../../core/samples.ts';
import type { SeriesPoint } from '../../store/ports/series.ts';
import type { StoreBackend } from '../../store/store.ts';
import { LineWriter, rollupPoint } from '../mcp/seed.ts';
import { openTestStore, type TestStore } from '../store/backends.ts';

export const SCREENSHOTS = join(import.meta.dirname, '..', '..', 'docs', 'screenshots');

export interface ConsoleHarness {
  backend: StoreBackend;
  fleet: SimulatedFleet;
  collector: CollectorHandle;
  api: ApiServer;
  browser: Browser;
  tenant: string;
  /** tenant-1 miners by the fault injected on them */
  deadBoard: SimulatedMiner;
  overheat: SimulatedMiner;
  unreachable: SimulatedMiner;
  deadPool: SimulatedMiner;
  /** a healthy miner of tenant-1 (for pausing) */
  healthy: SimulatedMiner;
  /** a miner of the other tenant */
  foreign: SimulatedMiner;
  token(role: Role, tenant?: string): Promise<string>;
  /** the signing key file and the API's Redis settings, for `bos-fleet token` in a child process (farm backend only: the embedded store belongs to one process) */
  privateKeyPath: string;
  redisEnv: Record<string, string>;
  /** a one-time console login link for a token of `role` */
  loginLink(role: Role): Promise<string>;
  newPage(viewport?: { width: number; height: number }): Promise<Page>;
  /** script errors and console errors of every page opened (CSP violations show here too) */
  pageErrors: string[];
  /** the API's control plane (schedules, jobs), as the console sees it */
  plane(): ControlPlane;
  close(): Promise<void>;
}

/**
 * On 'influx-redis' the collector and the API each open the farm store from their settings (as
 * two processes would); on 'embedded' both share one embedded store, as `npm start` runs them.
 */
export async function startConsoleHarness(backend: StoreBackend = 'influx-redis'): Promise<ConsoleHarness> {
  const fleet = await startSimulator({ miners: 24, seed: 17, sites: 2, tenants: 2, rackSize: 4, baseAddress: `127.${100 + (process.pid % 50)}.3.1`, warmupMs: 200, rebootMs: 1_000, thermalTauMs: 300 });
  const tenant = fleet.miners[0]!.tenant;
  const mine = fleet.miners.filter(m => m.tenant === tenant);
  const [deadBoard, overheat, unreachable, deadPool, healthy] = mine as [SimulatedMiner, SimulatedMiner, SimulatedMiner, SimulatedMiner, SimulatedMiner];
  fleet.injectFault(deadBoard.id, 'hashboard_failure');
  fleet.injectFault(overheat.id, 'overheat');
  fleet.injectFault(unreachable.id, 'unreachable');
  fleet.injectFault(deadPool.id, 'dead_pool');
  const foreign = fleet.miners.find(m => m.tenant !== tenant)!;

  const dir = mkdtempSync(join(tmpdir(), 'console-e2e-'));
  const inventory = join(dir, 'inventory.yaml');
  await fleet.writeInventory(inventory);
  process.env.MINER_PASSWORD ??= 'root';
  const shared = { INFLUX_URL: inject('influxUrl'), INFLUX_DB: `c_${randomUUID().slice(0, 8)}`, REDIS_URL: inject('redisUrl'), REDIS_PREFIX: `c-${randomUUID().slice(0, 8)}`, COLLECTOR_INVENTORY_FILE: inventory };
  const store: TestStore | undefined = backend === 'embedded' ? await openTestStore('embedded') : undefined;
  const onStore = store ? { store } : {};
  const collector = await startCollector(
    parseConfig(collectorConfigSchema, { ...shared, COLLECTOR_POLL_INTERVAL_MS: '1000', COLLECTOR_RPC_TIMEOUT_MS: '2000', COLLECTOR_OFFLINE_AFTER_MISSES: '2', COLLECTOR_HTTP_PORT: '0' }),
    { log: silentLogger(), env: process.env, ...onStore, ...(store ? { http: false } : {}) },
  );
  const keys = await generateKeyFiles(join(dir, 'keys'), 'ES256');
  const privateKey = parsePrivateKey(readFileSync(keys.privatePath, 'utf8'), 'k');
  let plane: ControlPlane | undefined;
  // The rate limits have tests of their own (test/api/auth); 26 browser tests in ~90 s under one
  // viewer could reach the default 600 requests a minute, and a 429 makes a swap a full page load.
  const api = await startApiServer(parseConfig(apiConfigSchema, { ...shared, API_HOST: '127.0.0.1', API_PORT: '0', AUTH_PUBLIC_KEY_FILE: keys.publicPath, FIRMWARE_DIR: join(dir, 'fw'), RATE_LIMIT_MAX: '100000' }), {
    log: silentLogger(),
    handleSignals: false,
    env: { COLLECTOR_POLL_INTERVAL_MS: '1000' },
    extension: fullApiExtension(handles => (plane = handles.plane)),
    ...onStore,
  });
  await waitForFirstPolls(collector, 30_000);
  const history = historyPoints(fleet, tenant, deadBoard);
  if (store) {
    const w = await store.series.openWriter({ batchSize: 5_000, flushIntervalMs: 100 });
    w.write(history);
    await w.close();
  } else {
    const w = new LineWriter(inject('influxUrl'), shared.INFLUX_DB);
    for (const p of history) await w.add(toLine(p)!);
    await w.flush();
  }
  // Faults show once the collector has seen them: wait until the snapshots say so.
  const deadline = Date.now() + 30_000;
  for (;;) {
    await collector.flushSnapshots();
    const caller = { sub: 't', tenant, roles: ['viewer' as Role] };
    const s = await api.fleetQuery.summary(caller);
    if (s.totals.by_status.offline >= 1 && s.totals.by_status.degraded >= 3) break;
    if (Date.now() > deadline) throw new Error(`faults not visible after 30 s: ${JSON.stringify(s.totals.by_status)}`);
    await new Promise(r => setTimeout(r, 250));
  }

  const browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  mkdirSync(SCREENSHOTS, { recursive: true });
  const sessions = new ConsoleSessions(api.infra.store.sessions);
  const token = (role: Role, t = tenant): Promise<string> =>
    mintToken({ privateKey, sub: `${role}@example.com`, tenant: t, roles: [role], ttlMs: 600_000, issuer: 'bos-fleet', audience: 'bos-fleet' });

  const pageErrors: string[] = [];
  return {
    backend,
    pageErrors,
    plane: () => plane!,
    fleet,
    collector,
    api,
    browser,
    tenant,
    deadBoard,
    overheat,
    unreachable,
    deadPool,
    healthy,
    foreign,
    token,
    privateKeyPath: keys.privatePath,
    redisEnv: { REDIS_URL: shared.REDIS_URL, REDIS_PREFIX: shared.REDIS_PREFIX, API_PUBLIC_URL: api.url },
    async loginLink(role) {
      return `${api.url}/login?code=${await sessions.mintLoginCode(await token(role))}`;
    },
    async newPage(viewport = { width: 1280, height: 900 }) {
      const context = await browser.newContext({ viewport });
      const page = await context.newPage();
      page.on('pageerror', err => pageErrors.push(`${page.url()}: ${err.message}`));
      // 401/403/404 answers the tests provoke on purpose are logged by Chromium as resource errors
      page.on('console', m => {
        if (m.type() === 'error' && !/Failed to load resource/.test(m.text())) pageErrors.push(`${page.url()}: ${m.text()}`);
      });
      return page;
    },
    async close() {
      await browser.close().catch(() => undefined);
      await api.close();
      await collector.stop();
      await fleet.stop();
      await store?.destroy();
    },
  };
}

/**
 * 24 h of history before the collector started, so the charts have something to draw: fleet
 * rollups of the tenant's sites (as collector/fleet-rollups.ts writes them) and the 1-minute
 * rollups of one miner, from the simulator's ground truth with a gentle daily swing.
 */
function historyPoints(fleet: SimulatedFleet, tenant: string, miner: SimulatedMiner): SeriesPoint[] {
  const points: SeriesPoint[] = [];
  const end = Math.floor(Date.now() / 60_000) * 60_000 - 3 * 60_000;
  const swing = (t: number): number => 0.96 + 0.03 * Math.sin((t / 86_400_000) * 2 * Math.PI);
  const bySite = new Map<string, SimulatedMiner[]>();
  for (const m of fleet.miners.filter(x => x.tenant === tenant)) bySite.set(m.site, [...(bySite.get(m.site) ?? []), m]);
  for (let t = end - 86_400_000; t < end; t += 60_000) {
    for (const [site, ms] of bySite) {
      const truths = ms.map(m => fleet.truth(m.id));
      const nominal = truths.reduce((a, x) => a + x.hashrate_nominal_ghs, 0);
      points.push({
        measurement: MEASUREMENTS.fleet1m,
        tags: { collector: 'history', site, tenant },
        fields: {
          miners: ms.length,
          online: ms.length,
          hashrate_ghs: nominal * swing(t),
          hashrate_nominal_ghs: nominal,
          power_w: truths.reduce((a, x) => a + x.power_w, 0) * (0.5 + swing(t) / 2),
          temp_chip_max_c: 70 + 10 * swing(t),
          samples: ms.length * 60,
        },
        time_ms: t,
      });
    }
    const truth = fleet.truth(miner.id);
    const ref = { id: miner.id, tenant, site: miner.site, address: miner.address, credentials: 'default', labels: {} };
    points.push(rollupPoint(MEASUREMENTS.miner1m, ref, truth.model, t, { hashrate_ghs: truth.hashrate_nominal_ghs * swing(t), hashrate_nominal_ghs: truth.hashrate_nominal_ghs, power_w: truth.power_w * (0.5 + swing(t) / 2), temp_chip_max_c: 68 + 10 * swing(t), up: 1 }, 60));
  }
  return points;
}
