// bench/console: the web console at 10,000 miners in Debian's headless Chromium (playwright-core).
//
//   node bench/console/run.ts --miners 10000 --history-days 30
//
// Measures, per screen, with a cold browser cache: first contentful paint (Paint Timing), the
// time until the screen's content is there ("meaningful": the fleet status counts, the first page
// of the miner table, a chart drawn), and the bytes transferred (Resource Timing transferSize of
// the document and every sub-resource; and, from CDP Network events, the encoded bytes on the
// wire). Then the latency of filter / sort / next page in the miner table (click until the
// results of the new address are in the page: console.js fetches only the results and swaps
// them in place), and the 30-day charts of one miner and of the fleet: time to drawn and the long
// tasks (> 50 ms main-thread tasks, Long Tasks API) while they load and draw.
//
// The fleet is seeded the way bench/api --synthetic does it, with the same modules: snapshots,
// indexes and events (test/mcp/seed.ts), --history-days of fleet rollups and window statistics
// (bench/api/history.ts), plus --history-days of 1-hour and 24 h of 1-minute rollups of the one
// miner whose page is charted (the collector's line builder). The API runs in its own process.
// The bench refuses to report when an input failed: login refused, an empty table, a chart
// without data.
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { spawn } from 'node:child_process';
import { chromium, type Browser, type Page } from 'playwright-core';
import { generateKeyFiles, mintToken, parsePrivateKey } from '../../api/auth/keys.ts';
import { collectorIdOf } from '../../collector/config.ts';
import { InfluxClient } from '../../store/influx-redis/influx-client.ts';
import { createRedis, waitForRedis } from '../../store/influx-redis/redis-connection.ts';
import { redisKeys } from '../../store/influx-redis/redis-keys.ts';
import { MEASUREMENTS } from '../../core/samples.ts';
import { freePort, startLocalInflux, startLocalRedis, type LocalService } from '../../demo/local-services.ts';
import { LineWriter, rollupLine, sampleOf, seedSynthetic, syntheticFleet, type SyntheticMiner } from '../../test/mcp/seed.ts';
import { computeAggregates } from '../../store/influx-redis/snapshot-store.ts';
import { openEmbeddedStore } from '../../store/embedded/index.ts';
import type { SeriesPoint } from '../../store/ports/series.ts';
import type { MinerSnapshot } from '../../core/samples.ts';
import { stopChild } from '../lib/process-stats.ts';
import { BenchGuard } from '../lib/bench-guard.ts';
import { waitForPageCondition } from '../../test/console/page-condition.ts';
import { writeHistory } from '../api/history.ts';

const { values } = parseArgs({
  options: {
    miners: { type: 'string', default: '10000' },
    'history-days': { type: 'string', default: '30' },
    // how many times each interaction is repeated (the median is reported)
    repeat: { type: 'string', default: '5' },
    // the API's store: InfluxDB + Redis (the farm backend), or the embedded SQLite store of `npm start`
    store: { type: 'string', default: 'influx-redis' },
    // embedded only: seed the history into this folder once and reuse it on later runs (the
    // snapshots are written afresh each run, so the miners are as recently seen as after a seed)
    'data-dir': { type: 'string' },
  },
});
if (values.store !== 'influx-redis' && values.store !== 'embedded') throw new Error(`--store: expected influx-redis or embedded, got ${values.store}`);
const STORE = values.store;
const N = Number(values.miners);
const DAYS = Number(values['history-days']);
const REPEAT = Number(values.repeat);
const HOUR_MS = 3_600_000;
const load = (): string => loadavg().map(l => l.toFixed(2)).join(' ');
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
/** Written into an embedded data folder once its history is complete. */
const HISTORY_MARK = 'bench-console-history.txt';
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

/** An input of the bench failed: nothing is reported, because the figures would be of the wrong thing. */
class BenchInputError extends Error {}

process.stdout.write(`bench/console: ${N} miners, ${DAYS} d of history, ${STORE} store\n`);
const guard = new BenchGuard(`bench/console --miners ${N} --history-days ${DAYS} --store ${STORE}`);

const services: LocalService[] = [];
const children: ReturnType<typeof spawn>[] = [];
let browser: Browser | undefined;

/** Long tasks and paint entries, collected from the start of every document. */
const OBSERVER = `(() => {
  window.__longTasks = [];
  try { new PerformanceObserver(l => { for (const e of l.getEntries()) window.__longTasks.push({ start: e.startTime, ms: e.duration }); }).observe({ type: 'longtask', buffered: true }); } catch {}
})();`;

interface ScreenFigures {
  screen: string;
  'FCP ms': number;
  'content ms': number;
  'KiB transferred': number;
  'KiB on the wire': number;
  requests: number;
  'long tasks': number;
  'longest task ms': number;
  'main thread ms': number;
  'script ms': number;
}

async function seed(influxUrl: string, redisUrl: string, db: string): Promise<{ fleet: SyntheticMiner[]; charted: SyntheticMiner }> {
  const t0 = Date.now();
  const fleet = syntheticFleet(N);
  const influx = new InfluxClient({ url: influxUrl, db, auth: 'none', flavour: '1' });
  await influx.ensureDatabase();
  const redis = createRedis(redisUrl, { name: 'bench-console-seed' });
  try {
    if (!(await waitForRedis(redis, 10_000))) throw new BenchInputError(`Redis at ${redisUrl} is not reachable`);
    const nowMs = Date.now();
    const { lines } = await seedSynthetic({ redis, keys: redisKeys(db), influxUrl, db, miners: fleet, nowMs, rawMinutes: 0, rollup1mMinutes: 0, rollup1hHours: 0 });
    process.stdout.write(`snapshots: ${N} miners, ${lines} lines in ${((Date.now() - t0) / 1000).toFixed(1)} s; load average ${load()}\n`);
    const h = await writeHistory({
      influxUrl,
      db,
      redis,
      keys: redisKeys(db),
      miners: fleet.map(m => ({ ref: m.ref, model: m.model, nominalGhs: m.nominal_ghs })),
      days: DAYS,
      endMs: nowMs,
      collectorId: collectorIdOf(process.env),
    });
    process.stdout.write(`fleet history: ${Object.values(h.points).reduce((a, b) => a + b, 0)} InfluxDB points in ${(h.ms / 1000).toFixed(1)} s; load average ${load()}\n`);
    // The charted miner: its own rollups (1 h over the whole history, 1 min over the last day).
    const charted = fleet[Math.floor(N / 2)]!;
    const w = new LineWriter(influxUrl, db);
    const swing = (t: number): number => 0.96 + 0.03 * Math.sin((t / 86_400_000) * 2 * Math.PI);
    const values = (t: number): Parameters<typeof rollupLine>[4] => ({ hashrate_ghs: charted.nominal_ghs * swing(t), hashrate_nominal_ghs: charted.nominal_ghs, power_w: charted.power_w * swing(t), temp_chip_max_c: 68 + 10 * swing(t), up: 1 });
    const end = Math.floor(nowMs / 60_000) * 60_000;
    for (let t = Math.floor((nowMs - DAYS * 86_400_000) / HOUR_MS) * HOUR_MS; t < end; t += HOUR_MS) await w.add(rollupLine(MEASUREMENTS.miner1h, charted.ref, charted.model, t, values(t), 360));
    for (let t = end - 86_400_000; t < end; t += 60_000) await w.add(rollupLine(MEASUREMENTS.miner1m, charted.ref, charted.model, t, values(t), 6));
    await w.flush();
    return { fleet, charted };
  } finally {
    redis.disconnect();
  }
}

/**
 * The same fleet in an embedded data folder, through the store's ports: snapshots and aggregates
 * as seedSynthetic builds them, the fleet history of bench/api/history.ts, the charted miner's
 * rollups. (No events: the screens measured do not show them.)
 */
async function seedEmbedded(dataDir: string, reuseHistory: boolean): Promise<{ fleet: SyntheticMiner[]; charted: SyntheticMiner }> {
  const t0 = Date.now();
  const fleet = syntheticFleet(N);
  const store = openEmbeddedStore({ dataDir });
  try {
    const nowMs = Date.now();
    const MINUTE = 60_000;
    const snaps: MinerSnapshot[] = fleet.map(m => {
      const offline = m.status === 'offline';
      const seen = offline ? nowMs - 30 * MINUTE : nowMs - 5_000;
      const sample = sampleOf(m, seen);
      return {
        ref: m.ref, last_seen_ms: seen, last_poll_ms: nowMs - 5_000, consecutive_failures: offline ? 20 : 0, last_error: offline ? 'unreachable' : null, status: m.status, sample,
        details: { uid: `uid-${m.ref.id}`, serial: `SN${m.index}`, mac: null, hostname: m.hostname, model: m.model, firmware: sample.firmware, api_version: '1.11.0', platform: 'PLATFORM_AM3_BBB', sticker_hashrate_ghs: m.nominal_ghs, fetched_ms: nowMs - HOUR_MS },
      };
    });
    for (let i = 0; i < snaps.length; i += 1_000) await store.state.putSnapshots(snaps.slice(i, i + 1_000));
    await store.state.putAggregates(collectorIdOf(process.env), computeAggregates(snaps, nowMs));
    await store.state.putHeartbeat(nowMs);
    process.stdout.write(`snapshots: ${N} miners in ${((Date.now() - t0) / 1000).toFixed(1)} s; load average ${load()}\n`);
    const charted = fleet[Math.floor(N / 2)]!;
    if (reuseHistory) {
      process.stdout.write(`history: reused from ${dataDir}\n`);
      return { fleet, charted };
    }
    const series = await store.series.openWriter({ flushIntervalMs: 0, batchSize: Number.MAX_SAFE_INTEGER });
    const h = await writeHistory({ series, state: store.state, miners: fleet.map(m => ({ ref: m.ref, model: m.model, nominalGhs: m.nominal_ghs })), days: DAYS, endMs: nowMs, collectorId: collectorIdOf(process.env) });
    process.stdout.write(`fleet history: ${Object.values(h.points).reduce((a, b) => a + b, 0)} points in ${(h.ms / 1000).toFixed(1)} s; load average ${load()}\n`);
    const swing = (t: number): number => 0.96 + 0.03 * Math.sin((t / 86_400_000) * 2 * Math.PI);
    const point = (measurement: string, t: number, samples: number): SeriesPoint => {
      const hashrate = charted.nominal_ghs * swing(t);
      const power = charted.power_w * swing(t);
      return {
        measurement,
        tags: { miner: charted.ref.id, model: charted.model, site: charted.ref.site, tenant: charted.ref.tenant },
        fields: { hashrate_ghs: hashrate, hashrate_nominal_ghs: charted.nominal_ghs, power_w: power, efficiency_jth: power / (hashrate / 1_000), temp_chip_max_c: 68 + 10 * swing(t), temp_board_max_c: 56 + 10 * swing(t), fan_rpm_min: 4_200, up: 1, samples },
        time_ms: t,
      };
    };
    const end = Math.floor(nowMs / 60_000) * 60_000;
    const points: SeriesPoint[] = [];
    for (let t = Math.floor((nowMs - DAYS * 86_400_000) / HOUR_MS) * HOUR_MS; t < end; t += HOUR_MS) points.push(point(MEASUREMENTS.miner1h, t, 360));
    for (let t = end - 86_400_000; t < end; t += 60_000) points.push(point(MEASUREMENTS.miner1m, t, 6));
    series.write(points);
    await series.close();
    writeFileSync(join(dataDir, HISTORY_MARK), `${N} miners, ${DAYS} d\n`);
    return { fleet, charted };
  } finally {
    await store.close();
  }
}

/** Open `url` in a fresh context (cold cache) and measure it until `ready` resolves. */
async function measureScreen(b: Browser, cookie: { name: string; value: string; url: string }, screen: string, url: string, ready: (p: Page) => Promise<void>): Promise<{ figures: ScreenFigures; page: Page; longTasksMs: number[] }> {
  const context = await b.newContext({ viewport: { width: 1280, height: 900 } });
  await context.addCookies([cookie]);
  await context.addInitScript(OBSERVER);
  const page = await context.newPage();
  // main-thread time of the page's renderer from before the navigation (CDP Performance domain)
  const cdp = await context.newCDPSession(page);
  await cdp.send('Performance.enable');
  // bytes on the wire (headers and compressed bodies) of every request of the page
  let wireBytes = 0;
  cdp.on('Network.loadingFinished', e => (wireBytes += e.encodedDataLength));
  await cdp.send('Network.enable');
  const t = Date.now();
  const r = await page.goto(url);
  if (!r || r.status() !== 200) throw new BenchInputError(`${screen}: ${url} answered ${r?.status()}`);
  await ready(page);
  const content = Date.now() - t;
  const m = (await page.evaluate(`(() => {
    const nav = performance.getEntriesByType('navigation')[0];
    const res = performance.getEntriesByType('resource');
    const fcp = performance.getEntriesByName('first-contentful-paint')[0];
    const bytes = nav.transferSize + res.reduce((a, e) => a + e.transferSize, 0);
    return { fcp: fcp ? fcp.startTime : -1, bytes, requests: 1 + res.length, long: window.__longTasks };
  })()`)) as { fcp: number; bytes: number; requests: number; long: { ms: number }[] };
  const metrics = (await cdp.send('Performance.getMetrics')).metrics;
  const metric = (n: string): number => Math.round((metrics.find(x => x.name === n)?.value ?? 0) * 1000);
  return {
    page,
    longTasksMs: m.long.map(x => Math.round(x.ms)),
    figures: {
      screen,
      'FCP ms': Math.round(m.fcp),
      'content ms': content,
      'KiB transferred': Math.round(m.bytes / 102.4) / 10,
      'KiB on the wire': Math.round(wireBytes / 102.4) / 10,
      requests: m.requests,
      'long tasks': m.long.length,
      'longest task ms': Math.round(Math.max(0, ...m.long.map(x => x.ms))),
      'main thread ms': metric('TaskDuration'),
      'script ms': metric('ScriptDuration'),
    },
  };
}

const tableRows = async (p: Page): Promise<number> => await p.locator('table[data-testid="miners"] tbody tr').count();

/** The table must show miners; an empty table measures nothing. */
async function tableReady(p: Page): Promise<void> {
  await p.waitForSelector('table[data-testid="miners"] tbody tr', { timeout: 30_000 }).catch(() => undefined);
  if ((await tableRows(p)) === 0) throw new BenchInputError(`the miner table at ${p.url()} is empty`);
}

/** A chart must draw data; "No data" or an error is a failed input. */
async function chartReady(p: Page): Promise<void> {
  await p.waitForSelector('.chart[data-state]', { timeout: 60_000 });
  const state = await p.getAttribute('.chart', 'data-state');
  if (state !== 'drawn') throw new BenchInputError(`the chart at ${p.url()} was not drawn: ${state} (${await p.textContent('.chart')})`);
}

try {
  const dir = mkdtempSync(join(tmpdir(), 'bench-console-'));
  let storeEnv: Record<string, string>;
  let seeded: { fleet: SyntheticMiner[]; charted: SyntheticMiner };
  if (STORE === 'embedded') {
    const dataDir = values['data-dir'] ?? join(dir, 'data');
    const mark = join(dataDir, HISTORY_MARK);
    const reuse = existsSync(mark);
    if (reuse && readFileSync(mark, 'utf8') !== `${N} miners, ${DAYS} d\n`) throw new BenchInputError(`${dataDir} holds the history of another fleet: ${readFileSync(mark, 'utf8').trim()}`);
    seeded = await seedEmbedded(dataDir, reuse);
    storeEnv = { BOSFLEET_STORE: 'embedded', BOSFLEET_DATA_DIR: dataDir };
  } else {
    if (values['data-dir'] !== undefined) throw new BenchInputError('--data-dir is for --store embedded only');
    const influx = await startLocalInflux();
    services.push(influx);
    const redis = await startLocalRedis();
    services.push(redis);
    const db = `bench_console_${Date.now()}`;
    seeded = await seed(influx.url, redis.url, db);
    storeEnv = { BOSFLEET_STORE: 'influx-redis', INFLUX_URL: influx.url, INFLUX_DB: db, REDIS_URL: redis.url, REDIS_PREFIX: db };
  }
  const { fleet, charted } = seeded;
  const tenant = fleet[0]!.ref.tenant;

  const keys = await generateKeyFiles(join(dir, 'keys'), 'ES256');
  const port = await freePort();
  const api = spawn(process.execPath, ['bin/bos-fleet.ts', 'api', '--port', String(port)], {
    stdio: ['ignore', 'ignore', 'inherit'],
    env: { ...process.env, LOG_LEVEL: 'warn', ...storeEnv, AUTH_PUBLIC_KEY_FILE: keys.publicPath, RATE_LIMIT_MAX: '1000000' },
  });
  children.push(api);
  const base = `http://127.0.0.1:${port}`;
  const readyBy = Date.now() + 60_000;
  while (!(await fetch(`${base}/health/ready`).then(r => r.ok, () => false))) {
    if (Date.now() > readyBy) throw new BenchInputError('the API was not ready within 60 s');
    await new Promise(r => setTimeout(r, 250));
  }

  browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS });
  // Log in once by pasting a token, as a person would; every measured screen reuses the session cookie.
  const token = await mintToken({ privateKey: parsePrivateKey(readFileSync(keys.privatePath, 'utf8'), 'bench'), sub: 'bench', tenant, roles: ['viewer'], ttlMs: 3_600_000, issuer: 'bos-fleet', audience: 'bos-fleet' });
  const loginPage = await (await browser.newContext()).newPage();
  await loginPage.goto(`${base}/login`);
  await loginPage.fill('#token', token);
  await loginPage.click('button:text("Log in")');
  await loginPage.waitForSelector('h1', { timeout: 30_000 });
  if ((await loginPage.textContent('h1')) !== 'Fleet') throw new BenchInputError(`login refused: ${await loginPage.textContent('main')}`);
  const session = (await loginPage.context().cookies()).find(c => c.name === 'bosfleet_session');
  if (!session) throw new BenchInputError('login set no session cookie');
  const cookie = { name: session.name, value: session.value, url: base };

  const screens: ScreenFigures[] = [];
  // Fleet: the status counts must add up to the fleet.
  const fleetScreen = await measureScreen(browser, cookie, 'fleet (counts)', `${base}/`, async p => {
    await p.waitForSelector('[data-testid="count-online"] .n');
  });
  const counted = await fleetScreen.page.$$eval('[data-testid^="count-"] .n', els => els.map(e => Number(e.textContent)));
  screens.push(fleetScreen.figures);
  process.stdout.write(`fleet status counts: ${counted.join(' / ')}\n`);
  if (Math.max(0, ...counted) === 0) throw new BenchInputError('the fleet screen counts no miners');
  await fleetScreen.page.context().close();
  const fleetChart = await measureScreen(browser, cookie, 'fleet + 24 h chart drawn', `${base}/`, chartReady);
  screens.push(fleetChart.figures);
  await fleetChart.page.context().close();
  const table = await measureScreen(browser, cookie, 'miner table (first page)', `${base}/miners`, tableReady);
  screens.push(table.figures);
  const rows = await tableRows(table.page);
  process.stdout.write(`miner table: ${rows} rows on the first page of ${N}\n`);

  // Interactions in the table: click until the results of the new address are in the page
  // (the console swaps them in place; without its script each would be a new document).
  const p = table.page;
  const timed = async (what: string, act: () => Promise<void>): Promise<number> => {
    // long tasks of this document so far: the ones after this index belong to the interaction
    const before = (await p.evaluate('window.__longTasks.length')) as number;
    const t = Date.now();
    await act();
    const search = new URL(p.url()).search;
    await waitForPageCondition(p, `document.querySelector('#miner-results')?.getAttribute('data-query') === ${JSON.stringify(search)}`, { timeoutMs: 30_000 });
    await tableReady(p);
    const ms = Date.now() - t;
    // console.js measures the swap in the frame after it (later than the page's URL changes)
    await waitForPageCondition(p, `performance.getEntriesByName('console:swap ' + location.pathname + location.search, 'measure').length > 0`, { timeoutMs: 5_000 }).catch(() => undefined);
    // Where the time went: the fragment's fetch (Resource Timing) and the server's phases (Server-Timing).
    const r = (await p.evaluate(`(() => {
      const e = performance.getEntriesByType('resource').filter(x => x.initiatorType === 'fetch' && x.name.endsWith(${JSON.stringify(search)})).pop();
      const m = performance.getEntriesByName('console:swap ' + location.pathname + location.search, 'measure').pop();
      const long = window.__longTasks.slice(${before}).map(x => x.ms);
      return e ? { status: e.responseStatus, swap: m ? m.duration : null, longest: Math.max(0, ...long), fetch: e.responseEnd - e.startTime, server: Object.fromEntries(e.serverTiming.map(s => [s.name, s.duration])) } : null;
    })()`)) as { status: number; swap: number | null; longest: number; fetch: number; server: Record<string, number> } | null;
    // no fetch of the results: the script fell back to loading the page (an error answer), not the interaction measured
    if (guard.check(r !== null, `${what}: the results of ${search} were not fetched in place`) && r && guard.check(r.status === 200, `${what}: the results of ${search} answered ${r.status}`)) {
      const b = (breakdown[what] ??= {});
      const inPage = r.swap === null ? {} : { 'in page: click to painted': r.swap };
      // 0: no task over 50 ms (the Long Tasks API reports none shorter)
      for (const [k, v] of Object.entries({ ...inPage, 'longest task (> 50)': r.longest, 'fetch (client)': r.fetch, ...r.server })) (b[k] ??= []).push(v);
    }
    return ms;
  };
  const breakdown: Record<string, Record<string, number[]>> = {};
  const site = fleet[0]!.ref.site;
  const interactions: Record<string, number | string>[] = [];
  const runs: Record<string, number[]> = { 'filter (site)': [], 'sort (max chip °C)': [], 'next page': [] };
  for (let i = 0; i < REPEAT; i++) {
    await p.goto(`${base}/miners`);
    await tableReady(p);
    await p.selectOption('select[name="site"]', site);
    runs['filter (site)']!.push(await timed('filter', async () => void (await Promise.all([p.waitForURL(/site=/), p.click('button:text("Filter")')]))));
    runs['sort (max chip °C)']!.push(await timed('sort', async () => void (await Promise.all([p.waitForURL(/sort=temperature/), p.click('thead a:has-text("Max chip")')]))));
    runs['next page']!.push(await timed('page', async () => void (await Promise.all([p.waitForURL(/cursor=/), p.click('a[rel="next"]')]))));
  }
  for (const [what, xs] of Object.entries(runs)) interactions.push({ interaction: what, 'median ms': median(xs), 'max ms': Math.max(...xs), runs: xs.length });
  const phases = Object.entries(breakdown).map(([what, b]) => ({
    interaction: what,
    ...Object.fromEntries(Object.entries(b).map(([k, xs]) => [`${k} ms (median)`, Math.round(median(xs) * 10) / 10])),
    'longest task (> 50) ms (max)': Math.round(Math.max(0, ...(b['longest task (> 50)'] ?? []))),
  }));
  await p.context().close();

  // 30-day charts: time to drawn, and whether the main thread stalled (long tasks) meanwhile.
  const fleet30 = await measureScreen(browser, cookie, `fleet chart ${DAYS} d`, `${base}/?range=30d`, chartReady);
  screens.push(fleet30.figures);
  await fleet30.page.context().close();
  const miner30 = await measureScreen(browser, cookie, `miner chart ${DAYS} d`, `${base}/miners/${encodeURIComponent(charted.ref.id)}?range=30d`, chartReady);
  screens.push(miner30.figures);
  const longTasks = { [`fleet chart ${DAYS} d`]: fleet30.longTasksMs, [`miner chart ${DAYS} d`]: miner30.longTasksMs };
  const points = await miner30.page.evaluate(`fetch('/miners/${encodeURIComponent(charted.ref.id)}/telemetry.json?range=30d').then(r => r.json()).then(d => d.x.length)`);
  await miner30.page.context().close();

  // figures only when every input held (BenchGuard prints the end load either way)
  if (guard.finish()) {
    process.stdout.write(`\nmachine: ${cpus().length} cores (${cpus()[0]?.model ?? '?'}), ${Math.round(totalmem() / 2 ** 30)} GiB, node ${process.version}, Chromium ${browser.version()}, ${new Date().toISOString()}; ${N} miners (synthetic), ${DAYS} d history, ${STORE} store; load average at end ${load()}\n`);
    console.table(screens);
    console.table(interactions);
    console.table(phases);
    process.stdout.write(`miner ${DAYS} d chart: ${String(points)} points\n`);
    for (const [screen, ms] of Object.entries(longTasks)) process.stdout.write(`long tasks (> 50 ms) while the ${screen} loaded and drew: ${ms.length ? ms.map(x => `${x} ms`).join(', ') : 'none'}\n`);
  }
} catch (err) {
  if (err instanceof BenchInputError) {
    guard.fail(err.message);
    guard.finish();
  } else throw err;
} finally {
  await browser?.close().catch(() => undefined);
  for (const c of children.reverse()) await stopChild(c);
  for (const s of services) await s.destroy();
}
