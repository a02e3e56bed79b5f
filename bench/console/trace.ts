// bench/console/trace.ts: main-thread CPU time of the console's longest tasks, from a Chromium trace.
//
//   node bench/console/run.ts --store embedded --data-dir /tmp/console-data   (seeds the folder once)
//   node bench/console/trace.ts --data-dir /tmp/console-data [--what sort|miner-chart|fleet-chart] [--runs 3]
//
// The Long Tasks API (what run.ts reports) gives a task's wall time, which on a shared machine is
// mostly waiting for a core. The trace's thread time (`tdur`) is the CPU the renderer's main thread
// spent in the task, so two versions can be compared at different loads. Tracing slows the page a
// little; compare figures of this script with each other, not with run.ts.
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { spawn } from 'node:child_process';
import { chromium, type Browser, type Page } from 'playwright-core';
import { generateKeyFiles, mintToken, parsePrivateKey } from '../../api/auth/keys.ts';
import { freePort } from '../../demo/local-services.ts';
import { syntheticFleet } from '../../test/mcp/seed.ts';
import { stopChild } from '../lib/process-stats.ts';
import { BenchGuard } from '../lib/bench-guard.ts';
import { waitForPageCondition } from '../../test/console/page-condition.ts';

const { values } = parseArgs({
  options: {
    'data-dir': { type: 'string' },
    miners: { type: 'string', default: '10000' },
    what: { type: 'string', default: 'sort' },
    runs: { type: 'string', default: '3' },
  },
});
const WHAT = values.what;
if (WHAT !== 'sort' && WHAT !== 'miner-chart' && WHAT !== 'fleet-chart') throw new Error(`--what: expected sort, miner-chart or fleet-chart, got ${WHAT}`);
if (!values['data-dir']) throw new Error('--data-dir: expected the embedded data folder bench/console/run.ts --data-dir seeded');
const DATA_DIR = values['data-dir'];
const RUNS = Number(values.runs);
const CATEGORIES = ['devtools.timeline', 'disabled-by-default-devtools.timeline', 'toplevel', 'v8.execute'];

interface TraceEvent { name: string; ph: string; pid: number; tid: number; ts: number; dur?: number; tdur?: number; args?: { name?: string } }

/** The page's main thread: the renderer main thread that ran the most task time. */
function taskTimes(file: string): { cpuMs: number; wallMs: number; what: string }[] {
  const events = (JSON.parse(readFileSync(file, 'utf8')) as { traceEvents: TraceEvent[] }).traceEvents;
  const mains = new Set(events.filter(e => e.name === 'thread_name' && e.args?.name === 'CrRendererMain').map(e => `${e.pid}:${e.tid}`));
  const tasksBy = new Map<string, TraceEvent[]>();
  for (const e of events) {
    const key = `${e.pid}:${e.tid}`;
    if (e.ph === 'X' && e.name === 'ThreadControllerImpl::RunTask' && mains.has(key)) tasksBy.set(key, [...(tasksBy.get(key) ?? []), e]);
  }
  // the page's own work (layout, script) tells its thread from an idle or discarded renderer's
  const work = new Map<string, number>();
  for (const e of events) if (e.ph === 'X' && ['Layout', 'FunctionCall', 'EvaluateScript', 'ParseHTML'].includes(e.name)) work.set(`${e.pid}:${e.tid}`, (work.get(`${e.pid}:${e.tid}`) ?? 0) + (e.tdur ?? 0));
  const [key, tasks] = [...tasksBy.entries()].sort((a, b) => (work.get(b[0]) ?? 0) - (work.get(a[0]) ?? 0))[0] ?? ['', []];
  const inThread = events.filter(e => `${e.pid}:${e.tid}` === key && e.ph === 'X');
  return tasks
    .map(t => {
      // what the task did: its largest named parts by thread time
      const parts = new Map<string, number>();
      for (const e of inThread) {
        if (e === t || e.ts < t.ts || e.ts + (e.dur ?? 0) > t.ts + (t.dur ?? 0)) continue;
        if (['Layout', 'UpdateLayoutTree', 'Paint', 'PrePaint', 'ParseHTML', 'FunctionCall', 'EvaluateScript', 'Commit', 'MinorGC', 'MajorGC', 'v8.compile', 'TimerFire', 'RunMicrotasks'].includes(e.name)) parts.set(e.name, (parts.get(e.name) ?? 0) + (e.tdur ?? 0) / 1000);
      }
      const what = [...parts.entries()].sort((a, b) => b[1] - a[1]).slice(0, 3).map(([k, v]) => `${k} ${v.toFixed(1)}`).join(', ');
      return { cpuMs: (t.tdur ?? 0) / 1000, wallMs: (t.dur ?? 0) / 1000, what };
    })
    .sort((a, b) => b.cpuMs - a.cpuMs);
}

const guard = new BenchGuard(`bench/console/trace --what ${WHAT} --runs ${RUNS}`);
const dir = mkdtempSync(join(tmpdir(), 'bench-console-trace-'));
const keys = await generateKeyFiles(join(dir, 'keys'), 'ES256');
const port = await freePort();
const api = spawn(process.execPath, ['bin/bos-fleet.ts', 'api', '--port', String(port)], {
  stdio: ['ignore', 'ignore', 'inherit'],
  env: { ...process.env, LOG_LEVEL: 'warn', BOSFLEET_STORE: 'embedded', BOSFLEET_DATA_DIR: DATA_DIR, AUTH_PUBLIC_KEY_FILE: keys.publicPath, RATE_LIMIT_MAX: '1000000' },
});
let browser: Browser | undefined;
try {
  const base = `http://127.0.0.1:${port}`;
  const readyBy = Date.now() + 60_000;
  while (!(await fetch(`${base}/health/ready`).then(r => r.ok, () => false))) {
    if (Date.now() > readyBy) throw new Error('the API was not ready within 60 s');
    await new Promise(r => setTimeout(r, 250));
  }
  const fleet = syntheticFleet(Number(values.miners));
  browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--headless', '--no-sandbox', '--disable-gpu'] });
  const token = await mintToken({ privateKey: parsePrivateKey(readFileSync(keys.privatePath, 'utf8'), 'bench'), sub: 'bench', tenant: fleet[0]!.ref.tenant, roles: ['viewer'], ttlMs: 3_600_000, issuer: 'bos-fleet', audience: 'bos-fleet' });
  const login = await (await browser.newContext()).newPage();
  await login.goto(`${base}/login`);
  await login.fill('#token', token);
  await login.click('button:text("Log in")');
  await login.waitForSelector('h1');
  const cookies = await login.context().cookies();
  const longest: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    // a fresh context each run: a cold cache, as a first visit
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    await context.addCookies(cookies);
    const page: Page = await context.newPage();
    const file = join(dir, `trace-${i}.json`);
    if (WHAT === 'sort') {
      await page.goto(`${base}/miners`);
      await page.waitForSelector('table[data-testid="miners"] tbody tr');
      await browser.startTracing(page, { path: file, categories: CATEGORIES });
      await Promise.all([page.waitForURL(/sort=temperature/), page.click('thead a:has-text("Max chip")')]);
      // console.js measures the swap in the frame after it, so the trace holds its paint
      await waitForPageCondition(page, `performance.getEntriesByName('console:swap ' + location.pathname + location.search, 'measure').length > 0`);
    } else {
      await page.goto('about:blank');
      await browser.startTracing(page, { path: file, categories: CATEGORIES });
      await page.goto(WHAT === 'fleet-chart' ? `${base}/?range=30d` : `${base}/miners/${encodeURIComponent(fleet[Math.floor(fleet.length / 2)]!.ref.id)}?range=30d`);
      await page.waitForSelector('.chart[data-state]', { timeout: 60_000 });
      guard.check((await page.getAttribute('.chart', 'data-state')) === 'drawn', `run ${i}: the chart was not drawn`);
      await page.waitForTimeout(300); // the draw's last frame (a figure of the trace, not of a test)
    }
    await browser.stopTracing();
    const tasks = taskTimes(file);
    guard.check(tasks.length > 0, `run ${i}: the trace has no tasks of the page's main thread`);
    longest.push(tasks[0]?.cpuMs ?? 0);
    process.stdout.write(`run ${i + 1}: longest tasks by CPU: ${tasks.slice(0, 3).map(t => `${t.cpuMs.toFixed(1)} ms CPU (${t.wallMs.toFixed(1)} wall; ${t.what})`).join('; ')}\n`);
    await context.close();
  }
  if (guard.finish()) process.stdout.write(`${WHAT}: longest task, main-thread CPU, per run: ${longest.map(x => x.toFixed(1)).join(' / ')} ms\n`);
} finally {
  await browser?.close().catch(() => undefined);
  await stopChild(api);
}
