import { execFile } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { promisify } from 'node:util';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildFirmwareImage } from '../../simulator/index.ts';
import { SCREENSHOTS, startConsoleHarness, type ConsoleHarness } from './harness.ts';
import { waitForPageCondition } from './page-condition.ts';
import { BACKENDS } from '../store/backends.ts';

// The console in a real browser (Debian's Chromium) over a simulated fleet with faults, the
// real collector and the real API, on both stores (embedded: the one-process default). Expected
// figures come from the simulator's own state. The screenshots of docs/ are the embedded run's.
describe.each(BACKENDS)('console on the %s store', backend => {
/** where a screenshot goes: docs/screenshots for the embedded run, a temp folder otherwise */
const shot = (name: string): string => {
  const dir = backend === 'embedded' ? SCREENSHOTS : join(tmpdir(), 'console-e2e-farm-screens');
  mkdirSync(dir, { recursive: true });
  return join(dir, name);
};
  let h: ConsoleHarness;
  const axeSource = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

  beforeAll(async () => {
    h = await startConsoleHarness(backend);
  }, 120_000);

  afterAll(async () => {
    await h?.close();
  });

  async function loginAs(role: 'viewer' | 'operator', viewport?: { width: number; height: number }): Promise<Page> {
    const page = await h.newPage(viewport);
    await page.goto(await h.loginLink(role));
    await page.waitForSelector('h1:text("Fleet")');
    return page;
  }

  /** axe-core in the page: no serious or critical violations. */
  async function expectAccessible(page: Page): Promise<void> {
    await page.evaluate(axeSource);
    // a string: the function runs in the page, where `axe` is a global
    const result = (await page.evaluate(`axe.run({ resultTypes: ['violations'] }).then(r => r.violations.map(v => ({ id: v.id, impact: v.impact, targets: v.nodes.slice(0, 3).map(n => n.target.join(' ')) })))`)) as { id: string; impact: string; targets: string[] }[];
    expect(result.filter(v => v.impact === 'serious' || v.impact === 'critical')).toEqual([]);
  }

  describe('console: login and the fleet screen', () => {
    it('logs in by a one-time link, shows the status counts and the problems first', async () => {
      const link = await h.loginLink('operator');
      const page = await h.newPage();
      await page.goto(link);
      await page.waitForSelector('h1:text("Fleet")');
      expect(new URL(page.url()).pathname).toBe('/');
      // the session is a cookie the page's scripts cannot read
      const cookies = await page.context().cookies();
      const session = cookies.find(c => c.name === 'bosfleet_session')!;
      expect(session).toMatchObject({ httpOnly: true, sameSite: 'Strict' });
      expect(await page.evaluate('document.cookie')).not.toContain('bosfleet_session');

      const mine = h.fleet.miners.filter(m => m.tenant === h.tenant);
      const count = async (cls: string): Promise<number> => Number(await page.textContent(`[data-testid="count-${cls}"] .n`));
      expect(await count('offline')).toBe(1);
      const degraded = await count('degraded');
      expect(degraded).toBeGreaterThanOrEqual(3);
      expect((await count('online')) + degraded + (await count('offline')) + (await count('paused'))).toBe(mine.length);
      expect(await page.textContent('[data-testid="count-degraded"]')).toMatch(/dead hashboard/);
      expect(await page.textContent('[data-testid="asof"]')).toMatch(/as of \d+ s ago/);

      const problems = page.locator('[data-testid="problems"] li');
      const text = (await problems.allTextContents()).join('\n');
      for (const [m, what] of [[h.deadBoard, 'dead hashboard'], [h.overheat, 'overheating'], [h.unreachable, 'offline'], [h.deadPool, 'dead pool']] as const) {
        const line = (await problems.filter({ hasText: m.id }).textContent()) ?? '';
        expect(line, text).toContain(what);
      }
      await page.click(`[data-testid="problems"] a:text-is("${h.deadBoard.id}")`);
      await page.waitForSelector(`h1:has-text("${h.deadBoard.id}")`);
      await page.goBack();
      await page.waitForSelector('.chart[data-state="drawn"]');
      await page.screenshot({ path: shot('fleet.png'), fullPage: true });
      await expectAccessible(page);

      // the link was for one use only
      const again = await h.newPage();
      const r = await again.goto(link);
      expect(r!.status()).toBe(401);
      await again.waitForSelector('text=has been used or has expired');
    });

    // the CLI opens the store itself: the embedded store belongs to the one process that runs it
    it.skipIf(backend === 'embedded')('logs in by the link `bos-fleet token --login-link` prints', async () => {
      const { stderr } = await promisify(execFile)(process.execPath, ['bin/bos-fleet.ts', 'token', '--key', h.privateKeyPath, '--sub', 'cli-viewer', '--tenant', h.tenant, '--roles', 'viewer', '--ttl', '10m', '--login-link'], { env: { ...process.env, ...h.redisEnv } });
      const link = /(http:\/\/\S+\/login\?code=\S+)/.exec(stderr)?.[1];
      expect(link, stderr).toBeDefined();
      const page = await h.newPage();
      await page.goto(link!);
      await page.waitForSelector('h1:text("Fleet")');
      expect(await page.textContent('header')).toContain('cli-viewer');
    });

    it('logs in by pasting a token, and out again', async () => {
      const page = await h.newPage();
      await page.goto(`${h.api.url}/`);
      await page.waitForSelector('h1:text("Log in")');
      await page.fill('#token', 'not-a-token');
      await page.click('button:text("Log in")');
      await page.waitForSelector('[role="alert"]');
      await page.fill('#token', await h.token('viewer'));
      await page.click('button:text("Log in")');
      await page.waitForSelector('h1:text("Fleet")');
      await page.click('button:text("Log out")');
      await page.waitForSelector('h1:text("Log in")');
      // the old session is gone: the fleet screen asks for a login again
      await page.goto(`${h.api.url}/`);
      await page.waitForSelector('h1:text("Log in")');
    });

    it('refuses a state-changing request without the session CSRF token or from another origin', async () => {
      const page = await loginAs('operator');
      const status = await page.evaluate(`fetch('/miners/${h.healthy.id}/actions', { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'action=pause' }).then(r => r.status)`);
      expect(status).toBe(403);
      const cookie = (await page.context().cookies()).find(c => c.name === 'bosfleet_session')!;
      const r = await fetch(`${h.api.url}/logout`, { method: 'POST', headers: { cookie: `bosfleet_session=${cookie.value}`, origin: 'https://evil.example', 'content-type': 'application/x-www-form-urlencoded' }, body: '_csrf=x', redirect: 'manual' });
      expect(r.status).toBe(403);
    });
  });

  describe('console: miners table and miner page', () => {
    it('filters the table by status and site, and sorts it by a column', async () => {
      const page = await loginAs('viewer');
      await page.goto(`${h.api.url}/miners`);
      const ids = async (): Promise<string[]> => await page.locator('table[data-testid="miners"] tbody th a').allTextContents();
      const mine = h.fleet.miners.filter(m => m.tenant === h.tenant);
      expect((await ids()).sort()).toEqual(mine.map(m => m.id).sort());
      await page.selectOption('select[name="status"]', 'offline');
      await Promise.all([page.waitForURL(/status=offline/), page.click('button:text("Filter")')]);
      expect(await ids()).toEqual([h.unreachable.id]);
      const site = h.deadBoard.site;
      await page.goto(`${h.api.url}/miners`);
      await page.selectOption('select[name="site"]', site);
      await Promise.all([page.waitForURL(/site=/), page.click('button:text("Filter")')]);
      expect((await ids()).sort()).toEqual(mine.filter(m => m.site === site).map(m => m.id).sort());
      await page.fill('input[name="q"]', h.overheat.id);
      await page.selectOption('select[name="site"]', '');
      await Promise.all([page.waitForURL(/q=/), page.click('button:text("Filter")')]);
      expect(await ids()).toEqual([h.overheat.id]);
      // sort by max chip temperature, hottest first: the overheating miner leads
      await page.goto(`${h.api.url}/miners`);
      await Promise.all([page.waitForURL(/sort=temperature/), page.click('thead a:has-text("Max chip")')]);
      expect((await ids())[0]).toBe(h.overheat.id);
      await Promise.all([page.waitForURL(/order=asc/), page.click('thead a:has-text("Max chip")')]);
      const temps = (await page.locator('td[data-label="Max chip °C"]').allTextContents()).map(Number).filter(Number.isFinite);
      expect(temps).toEqual([...temps].sort((a, b) => a - b));
      expect(await page.locator('input[name="ids"]').count()).toBe(0); // a viewer has no batch selection
      await page.goto(`${h.api.url}/miners`);
      await page.screenshot({ path: shot('miners.png'), fullPage: true });
    });

    it('shows every column on a 1920 px screen, and keeps the miner in view when a narrower table scrolls sideways', async () => {
      const layout = `(() => {
        const s = document.querySelector('#miner-results .scroll');
        const box = e => e.getBoundingClientRect();
        const miner = document.querySelector('table[data-testid=miners] tbody th[scope=row]');
        const m = box(miner);
        const atMiner = document.elementFromPoint(m.left + 8, m.top + m.height / 2);
        return {
          overflow_px: s.scrollWidth - s.clientWidth,
          miner_from_left_px: m.left - box(s).left,
          miner_on_top: miner.contains(atMiner),
          last_header_right_px: box(document.querySelector('thead th:last-child')).right - box(s).right,
        };
      })()`;
      type Layout = { overflow_px: number; miner_from_left_px: number; miner_on_top: boolean; last_header_right_px: number };
      const wide = await loginAs('operator', { width: 1920, height: 1000 });
      await wide.goto(`${h.api.url}/miners`);
      expect(((await wide.evaluate(layout)) as Layout).overflow_px).toBeLessThanOrEqual(1);
      const page = await loginAs('operator');
      await page.goto(`${h.api.url}/miners`);
      await page.evaluate(`document.querySelector('#miner-results .scroll').scrollLeft = 1e6`);
      const scrolled = (await page.evaluate(layout)) as Layout;
      expect(scrolled.overflow_px).toBeGreaterThan(0);
      expect(scrolled.last_header_right_px).toBeLessThanOrEqual(1); // scrolled to the end
      // the checkbox column (36 px) and then the miner, drawn over the cells scrolled under them
      expect(Math.abs(scrolled.miner_from_left_px - 36)).toBeLessThanOrEqual(2);
      expect(scrolled.miner_on_top).toBe(true);
    });

    it('shows fans, uptime and pool, and sorts and pages by any column in place', async () => {
      const page = await loginAs('viewer');
      await page.goto(`${h.api.url}/miners?sort=id&order=asc&limit=5`);
      const caller = { sub: 't', tenant: h.tenant, roles: ['viewer' as const] };
      const m = await h.api.fleetQuery.getMiner(caller, h.healthy.id);
      const row = page.locator(`table[data-testid="miners"] tbody tr:has(th a:text-is("${h.healthy.id}"))`);
      const minFan = Math.min(...m.fans.map(f => f.rpm));
      // fans turn a little between two polls: the slowest one, within 10 %
      const fan = Number((await row.locator('td[data-label="Fans (min RPM)"]').textContent())!.replace(/,/g, ''));
      expect(Math.abs(fan - minFan)).toBeLessThanOrEqual(minFan * 0.1);
      expect(await row.locator('td[data-label="Uptime"]').textContent()).toMatch(/^\d+ (min|h \d+ min|d \d+ h)$/);
      const active = m.pools.find(p => p.active) ?? m.pools[0]!;
      expect(await row.locator('td[data-label="Pool"] .pool').getAttribute('title')).toBe(active.url);
      // sorting and paging swap the results in place: the document stays the same
      await page.evaluate('window.__sameDocument = true');
      const ids = async (): Promise<string[]> => await page.locator('table[data-testid="miners"] tbody th a').allTextContents();
      for (const [label, sort] of [['Pool', 'pool'], ['Uptime', 'uptime'], ['Fans', 'fans'], ['Site', 'site'], ['Status', 'status']] as const) {
        await Promise.all([page.waitForURL(new RegExp(`sort=${sort}&`)), page.click(`thead a:has-text("${label}")`)]);
        const order = new URL(page.url()).searchParams.get('order') as 'asc' | 'desc';
        const expected = await h.api.fleetQuery.listMiners(caller, { sort, order, limit: 5 });
        expect(await ids(), sort).toEqual(expected.items.map(x => x.id));
        expect(await page.getAttribute(`thead th:has(a:has-text("${label}"))`, 'aria-sort')).toBe(order === 'asc' ? 'ascending' : 'descending');
      }
      // only the rows, header, counts and pager are swapped: the table (and its column widths) stays,
      // and a sort from the keyboard leaves the focus on the header it sorted, announced by aria-sort
      await page.evaluate('window.__table = document.querySelector("table[data-testid=miners]")');
      await page.focus('thead a:has-text("Model")');
      await Promise.all([page.waitForURL(/sort=model&/), page.keyboard.press('Enter')]);
      expect(await page.evaluate('document.querySelector("table[data-testid=miners]") === window.__table')).toBe(true);
      expect(await page.evaluate('document.activeElement.closest("th")?.getAttribute("aria-sort")')).toBe('ascending');
      await Promise.all([page.waitForURL(/sort=status&/), page.click('thead a:has-text("Status")')]);
      // the next page of the last sort continues it
      await Promise.all([page.waitForURL(/cursor=/), page.click('a[rel="next"]')]);
      const all = await h.api.fleetQuery.listMiners(caller, { sort: 'status', order: 'asc', limit: 10 });
      expect(await ids()).toEqual(all.items.slice(5, 10).map(x => x.id));
      // the filter form keeps the sort the table shows
      await page.selectOption('select[name="site"]', h.deadBoard.site);
      await Promise.all([page.waitForURL(/site=/), page.click('button:text("Filter")')]);
      expect(page.url()).toMatch(/sort=status/);
      expect(await page.evaluate('window.__sameDocument === true')).toBe(true);
      // the results say where their time went: server phases (Server-Timing) and the swap in the page
      await waitForPageCondition(page, `performance.getEntriesByName('console:swap ' + location.pathname + location.search, 'measure').length > 0`);
      const phases = (await page.evaluate(`performance.getEntriesByType('resource').filter(e => e.name.endsWith(location.search)).pop().serverTiming.map(s => s.name)`)) as string[];
      expect(phases).toEqual(expect.arrayContaining(['parse', 'query', 'render']));
      // back returns to the previous results
      await page.goBack();
      await waitForPageCondition(page, '!/site=/.test(location.search) && document.querySelector("#miner-results")?.dataset.query === location.search');
      expect(await ids()).toEqual(all.items.slice(5, 10).map(x => x.id));
    });

    it('sends pages and assets compressed, assets with a content hash and a long cache life', async () => {
      const page = await loginAs('viewer');
      const r = await page.goto(`${h.api.url}/miners`);
      expect(r!.headers()['content-encoding']).toBe('br');
      const href = (await page.getAttribute('link[rel="stylesheet"]', 'href'))!;
      expect(href).toMatch(/^\/assets\/console\.css\?v=[\w-]{12}$/);
      const css = readFileSync(join(import.meta.dirname, '..', '..', 'console', 'assets', 'console.css'), 'utf8');
      for (const encoding of ['br', 'gzip'] as const) {
        const a = await fetch(`${h.api.url}${href}`, { headers: { 'accept-encoding': encoding } });
        expect(a.headers.get('content-encoding')).toBe(encoding);
        expect(a.headers.get('cache-control')).toContain('immutable');
        expect(await a.text()).toBe(css);
      }
      const plain = await fetch(`${h.api.url}${href}`, { headers: { 'accept-encoding': 'identity' } });
      expect(plain.headers.get('content-encoding')).toBeNull();
      expect(await plain.text()).toBe(css);
      const stale = await fetch(`${h.api.url}/assets/console.css?v=old`);
      expect(stale.headers.get('cache-control')).not.toContain('immutable');
      // the fleet page over plain HTTP with the session cookie: gzip when brotli is not offered
      const cookie = (await page.context().cookies()).find(c => c.name === 'bosfleet_session')!;
      const fleet = await fetch(`${h.api.url}/`, { headers: { cookie: `bosfleet_session=${cookie.value}`, 'accept-encoding': 'gzip' } });
      expect(fleet.status).toBe(200);
      expect(fleet.headers.get('content-encoding')).toBe('gzip');
      expect(fleet.headers.get('vary')).toContain('accept-encoding');
      expect(await fleet.text()).toContain('data-testid="count-online"');
      const raw = await fetch(`${h.api.url}/`, { headers: { cookie: `bosfleet_session=${cookie.value}`, 'accept-encoding': 'identity' } });
      expect(raw.headers.get('content-encoding')).toBeNull();
    });

    it('shows a miner with a dead hashboard', async () => {
      const page = await loginAs('operator');
      await page.goto(`${h.api.url}/miners/${h.deadBoard.id}`);
      await page.waitForSelector('table[data-testid="boards"]');
      const deadBoards = h.fleet.truth(h.deadBoard.id).boards.filter(b => !b.hashing).map(b => b.id);
      expect(deadBoards.length).toBeGreaterThan(0);
      for (const b of deadBoards) expect(await page.textContent(`table[data-testid="boards"] tr:has(th:text-is("${b}"))`)).toContain('dead');
      expect(await page.locator('table[data-testid="boards"] .badge.offline').count()).toBe(deadBoards.length);
      expect(await page.textContent('main')).toContain('dead hashboard');
      const truth = h.fleet.truth(h.deadBoard.id);
      expect(await page.textContent('main')).toContain(truth.firmware);
      // on a 1280 px screen the pools table shows every column (state and shares) without scrolling
      const poolsOverflow = await page.evaluate(`(() => { const s = document.querySelector('section[aria-labelledby="pools-h"] .scroll'); return s.scrollWidth - s.clientWidth; })()`);
      expect(poolsOverflow).toBeLessThanOrEqual(1);
      await page.waitForSelector('.chart[data-state]');
      await page.screenshot({ path: shot('miner.png'), fullPage: true });
      await expectAccessible(page);
      // the same screen on a phone
      const phone = await loginAs('operator', { width: 390, height: 844 });
      await phone.goto(`${h.api.url}/miners/${h.deadBoard.id}`);
      await phone.waitForSelector('.chart[data-state]');
      const overflow = await phone.evaluate('document.documentElement.scrollWidth - document.documentElement.clientWidth');
      expect(overflow).toBeLessThanOrEqual(1);
      await phone.screenshot({ path: shot('miner-phone.png'), fullPage: true });
    });

    it('pauses a miner: dry run first, then confirm, and the miner is paused', async () => {
      const page = await loginAs('operator');
      const id = h.healthy.id;
      await page.goto(`${h.api.url}/miners/${id}`);
      await page.click('[data-testid="actions"] button:text("Pause…")');
      await page.waitForSelector('[data-testid="dry-run"]');
      expect(await page.textContent('[data-testid="dry-run"]')).toContain(id);
      // the dry run changed nothing
      expect(h.fleet.truth(id).status).toBe('MINER_STATUS_NORMAL');
      await page.screenshot({ path: shot('dry-run.png'), fullPage: true });
      await page.click('button:text("Confirm")');
      await page.waitForSelector('[data-testid="done"]');
      expect(h.fleet.truth(id).status).toBe('MINER_STATUS_PAUSED');
      await expect
        .poll(async () => {
          await page.reload();
          return await page.textContent('[data-testid="status"]');
        }, { timeout: 20_000, interval: 500 })
        .toBe('paused');
      // the audit trail names who did it
      await page.goto(`${h.api.url}/events?miner=${id}&kind=control_action`);
      await page.waitForSelector('table[data-testid="events"]');
      expect(await page.textContent('table[data-testid="events"]')).toContain('operator@example.com');
      const rows = await page.locator('table[data-testid="events"] tbody tr').count();
      expect(await page.textContent('p.asof')).toMatch(new RegExp(`^${rows} ${rows === 1 ? 'event' : 'events'}[ ,]`));
      await page.screenshot({ path: shot('events.png'), fullPage: true });
    });

    it('previews a power target with its dry run, and cancelling changes nothing', async () => {
      const page = await loginAs('operator');
      const id = h.overheat.id;
      const before = h.fleet.truth(id).power_target_w;
      await page.goto(`${h.api.url}/miners/${id}`);
      await page.fill('input[name="watt"]', '2500');
      await page.click('[data-testid="actions"] button:text("Set…")');
      await page.waitForSelector('[data-testid="dry-run"]');
      expect(await page.textContent('h1')).toContain('2500 W');
      expect(await page.textContent('[data-testid="dry-run"]')).toContain('2500');
      await page.click('a:text("Cancel")');
      await page.waitForSelector(`h1:text-is("${id}")`);
      expect(h.fleet.truth(id).power_target_w).toBe(before);
    });

    it('runs a batch action from the table selection and shows the job progress live', async () => {
      const page = await loginAs('operator');
      const ids = [h.healthy.id, h.deadPool.id];
      await page.goto(`${h.api.url}/miners`);
      for (const id of ids) await page.check(`input[name="ids"][value="${id}"]`);
      await page.selectOption('select[name="action"]', 'resume');
      await page.click('button:text("Preview (dry run)")');
      await page.waitForSelector('[data-testid="dry-run"]');
      expect(await page.textContent('[data-testid="dry-run"]')).toContain('2 miners matched');
      // a slow miner keeps the job running long enough to watch it
      h.fleet.injectFault(h.healthy.id, { kind: 'slow', delay_ms: 1_500 });
      await page.click('button:text("Confirm")');
      await page.waitForURL(/\/jobs\//);
      expect(['queued', 'running']).toContain(await page.getAttribute('[data-testid="job-progress"]', 'data-status'));
      const stream = `${new URL(page.url()).pathname}/stream`;
      // the page follows the job over server-sent events until it is final, without reloading
      await page.evaluate('window.__sameDocument = true');
      await page.waitForSelector('[data-testid="job-progress"][data-status="succeeded"], [data-testid="job-progress"][data-status="partially_failed"]', { timeout: 30_000 });
      expect(await page.evaluate('window.__sameDocument === true')).toBe(true);
      expect(await page.textContent('[data-testid="job-progress"]')).toContain('2 of 2 done');
      const streamed = (await page.evaluate(`performance.getEntriesByType('resource').map(e => e.name)`)) as string[];
      expect(streamed.some(u => u.endsWith(stream))).toBe(true);
      // another tenant's operator gets no stream of this job
      const other = h.fleet.miners.find(m => m.tenant !== h.tenant)!.tenant;
      const foreign = await h.newPage();
      await foreign.goto(`${h.api.url}/login`);
      await foreign.fill('#token', await h.token('operator', other));
      await foreign.click('button:text("Log in")');
      await foreign.waitForSelector('h1:text("Fleet")');
      expect(await foreign.evaluate(`fetch('${stream}').then(r => r.status)`)).toBe(404);
      const results = await page.textContent('table[data-testid="job-results"]');
      for (const id of ids) expect(results).toContain(id);
      h.fleet.clearFault(h.healthy.id, 'slow');
      expect(h.fleet.truth(h.healthy.id).status).toBe('MINER_STATUS_NORMAL');
      await page.screenshot({ path: shot('job.png'), fullPage: true });
      await page.goto(`${h.api.url}/jobs`);
      await page.waitForSelector('table[data-testid="jobs"]');
    });

    it('shows a viewer no action buttons, and the server refuses a viewer action anyway', async () => {
      const page = await loginAs('viewer');
      await page.goto(`${h.api.url}/miners/${h.healthy.id}`);
      await page.waitForSelector('table[data-testid="boards"]');
      expect(await page.locator('[data-testid="actions"]').count()).toBe(0);
      expect(await page.locator('form[action*="/actions"]').count()).toBe(0);
      const csrf = await page.getAttribute('meta[name="csrf-token"]', 'content');
      const status = await page.evaluate(`fetch('/miners/${h.healthy.id}/actions', { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'action=reboot&_csrf=${csrf}' }).then(r => r.status)`);
      expect(status).toBe(403);
    });

    it("answers another tenant's miner with a not-found page", async () => {
      const page = await loginAs('operator');
      const r = await page.goto(`${h.api.url}/miners/${h.foreign.id}`);
      expect(r!.status()).toBe(404);
      await page.waitForSelector('h1:text("Not found")');
      expect(await page.textContent('main')).not.toContain(h.foreign.address);
    });
  });

  describe('console: rack map, schedules and the phone layout', () => {
    it('lays miners out by site and rack, coloured by the chosen metric', async () => {
      const page = await loginAs('viewer');
      await page.goto(`${h.api.url}/racks?metric=status`);
      await page.waitForSelector('[data-testid="racks"]');
      const cls = async (id: string): Promise<string> => (await page.getAttribute(`a.cell[href="/miners/${id}"]`, 'class')) ?? '';
      expect(await cls(h.unreachable.id)).toContain('st-offline');
      expect(await cls(h.deadBoard.id)).toContain('st-degraded');
      expect(await page.locator('a.cell').count()).toBe(h.fleet.miners.filter(m => m.tenant === h.tenant).length);
      // each miner sits in the rack its inventory labels name
      const rackOf = await page.locator(`.rack:has(a.cell[href="/miners/${h.overheat.id}"]) h3`).textContent();
      expect(rackOf).toBe(h.overheat.rack);
      await page.selectOption('select[name="metric"]', 'temp');
      await Promise.all([page.waitForURL(/metric=temp/), page.click('button:text("Show")')]);
      expect(await cls(h.overheat.id)).toMatch(/lvl-[34]/);
      await page.screenshot({ path: shot('racks.png'), fullPage: true });
      await expectAccessible(page);
    });

    it('lists curtailment schedules', async () => {
      await h.plane().schedules.create({ sub: 'otto@example.com', tenant: h.tenant, roles: ['operator'] }, { name: 'evening peak', selector: { site: h.deadBoard.site }, cron: '0 17 * * 1-5', duration_ms: 3_600_000, action: { type: 'pause' } });
      const page = await loginAs('viewer');
      await page.goto(`${h.api.url}/schedules`);
      await page.waitForSelector('table[data-testid="schedules"]');
      const text = await page.textContent('table[data-testid="schedules"]');
      expect(text).toContain('evening peak');
      expect(text).toContain('0 17 * * 1-5');
    });

    it('shows curtailment policies with their next window and executions; only an operator gets the demand-response form', async () => {
      const op = { sub: 'otto@example.com', tenant: h.tenant, roles: ['operator' as const] };
      await h.plane().energy.putPolicy(op, {
        id: 'evening-tariff',
        selector: { site: h.deadBoard.site },
        currency: 'EUR',
        strike_price_per_mwh: 100,
        target: { kind: 'reduce_percent', percent: 30 },
        ramp_kw_per_min: 20,
        enabled: false,
        price_source: { kind: 'tariff', tariff: { currency: 'EUR', default_price_per_mwh: 60, periods: [{ from_hour: 0, to_hour: 24, price_per_mwh: 150 }] } },
      });
      const viewer = await loginAs('viewer');
      await viewer.goto(`${h.api.url}/curtailment`);
      await viewer.waitForSelector('table[data-testid="curtailment-policies"]');
      const text = await viewer.textContent('table[data-testid="curtailment-policies"]');
      expect(text).toContain('evening-tariff');
      expect(text).toContain('miners');
      expect(await viewer.locator('form[data-testid="signal-form"]').count()).toBe(0);
      const operator = await loginAs('operator');
      await operator.goto(`${h.api.url}/curtailment`);
      expect(await operator.locator('form[data-testid="signal-form"]').count()).toBe(1);
      await expectAccessible(viewer);
      await h.plane().energy.deletePolicy(op, 'evening-tariff');
    });


    it('fits the fleet screen on a phone', async () => {
      const phone = await loginAs('operator', { width: 390, height: 844 });
      await phone.waitForSelector('.chart[data-state]');
      expect(await phone.evaluate('document.documentElement.scrollWidth - document.documentElement.clientWidth')).toBeLessThanOrEqual(1);
      await phone.screenshot({ path: shot('fleet-phone.png'), fullPage: true });
    });
  });

  describe('console: more actions (pools, cooling, hashboards, jobs, schedules, rollouts)', () => {
    // tenant miners the tests above leave alone
    const spare = (i: number): string => h.fleet.miners.filter(m => m.tenant === h.tenant)[5 + i]!.id;

    it('replaces the pools of a miner: dry run first, then confirm', async () => {
      const page = await loginAs('operator');
      const id = spare(0);
      const before = h.fleet.truth(id).pools.map(p => p.url);
      await page.goto(`${h.api.url}/miners/${id}`);
      await page.click('[data-testid="more-actions"] summary');
      await page.fill('[data-testid="pools-form"] input[name="url"]', 'stratum+tcp://pool.example.com:3333');
      await page.fill('[data-testid="pools-form"] input[name="user"]', 'console.worker');
      await page.fill('[data-testid="pools-form"] input[name="password"]', 'pool-secret');
      await expectAccessible(page);
      await page.click('button:text("Set pools…")');
      await page.waitForSelector('[data-testid="dry-run"]');
      expect(await page.textContent('h1')).toContain('stratum+tcp://pool.example.com:3333');
      expect(await page.textContent('main')).not.toContain('pool-secret');
      expect(h.fleet.truth(id).pools.map(p => p.url)).toEqual(before);
      await page.click('button:text("Confirm")');
      await page.waitForSelector('[data-testid="done"]');
      expect(h.fleet.truth(id).pools.map(p => `${p.url} ${p.user}`)).toEqual(['stratum+tcp://pool.example.com:3333 console.worker']);
    });

    it('sets manual cooling with its dry run, and refuses a bad fan speed with a message', async () => {
      const page = await loginAs('operator');
      const id = spare(1);
      await page.goto(`${h.api.url}/miners/${id}`);
      await page.click('[data-testid="more-actions"] summary');
      await page.selectOption('[data-testid="cooling-form"] select[name="mode"]', 'manual');
      await page.fill('[data-testid="cooling-form"] input[name="fan_pct"]', '250');
      const bad = await Promise.all([page.waitForResponse(r => r.url().endsWith('/cooling')), page.click('button:text("Set cooling…")')]);
      expect(bad[0].status()).toBe(400);
      expect(await page.textContent('main')).toContain('expected a whole percentage 0–100');
      await page.goto(`${h.api.url}/miners/${id}`);
      await page.click('[data-testid="more-actions"] summary');
      await page.selectOption('[data-testid="cooling-form"] select[name="mode"]', 'manual');
      await page.fill('[data-testid="cooling-form"] input[name="fan_pct"]', '60');
      await page.click('button:text("Set cooling…")');
      await page.waitForSelector('[data-testid="dry-run"]');
      expect(h.fleet.truth(id).cooling_mode).not.toMatch(/manual/i);
      await page.click('button:text("Confirm")');
      await page.waitForSelector('[data-testid="done"]');
      expect(h.fleet.truth(id).cooling_mode).toMatch(/manual/i);
    });

    it('disables a hashboard with its dry run, and enables it again', async () => {
      const page = await loginAs('operator');
      const id = spare(2);
      const board = h.fleet.truth(id).boards[0]!.id;
      for (const op of ['Disable', 'Enable'] as const) {
        await page.goto(`${h.api.url}/miners/${id}`);
        await page.click('[data-testid="more-actions"] summary');
        await page.check(`[data-testid="hashboards-form"] input[name="boards"][value="${board}"]`);
        await page.click(`[data-testid="hashboards-form"] button:text("${op}…")`);
        await page.waitForSelector('[data-testid="dry-run"]');
        expect(await page.textContent('h1')).toContain(`${op} hashboard ${board}`);
        expect(h.fleet.truth(id).boards.find(b => b.id === board)!.enabled).toBe(op === 'Enable' ? false : true);
        await page.click('button:text("Confirm")');
        await page.waitForSelector('[data-testid="done"]');
        expect(h.fleet.truth(id).boards.find(b => b.id === board)!.enabled).toBe(op === 'Enable');
      }
    });

    it('pauses and resumes a running job from its page', async () => {
      const ids = [3, 4, 5, 6].map(spare);
      const page = await loginAs('operator');
      // the jobs service runs up to 32 miners at once: slow miners keep this job running long enough to pause it
      for (const id of ids) h.fleet.injectFault(id, { kind: 'slow', delay_ms: 6_000 });
      try {
        const operator = { sub: 'operator@example.com', tenant: h.tenant, roles: ['operator' as const] };
        const r = await h.plane().control.execute(operator, { selector: { ids } }, { kind: 'action', action: 'locate_on' });
        await page.goto(`${h.api.url}/jobs/${r.job!.id}`);
        await page.click('button:text("Pause job")');
        await page.waitForSelector('[data-testid="job-progress"][data-status="paused"]');
        await page.click('button:text("Resume job")');
        await page.waitForSelector('[data-testid="job-progress"]:is([data-status="succeeded"], [data-status="partially_failed"], [data-status="failed"])', { timeout: 60_000 });
        const { steps } = await h.plane().jobs.steps(operator, r.job!.id);
        expect(steps.map(s => s.status)).toEqual(expect.arrayContaining(['pause_requested', 'resume_requested']));
      } finally {
        for (const id of ids) h.fleet.clearFault(id, 'slow');
      }
    });

    it('shows a job started elsewhere on the open jobs list, and its end, without a reload', async () => {
      // two miners: a single miner's action runs at once, without a job
      const ids = [spare(0), spare(1)];
      const page = await loginAs('operator');
      await page.goto(`${h.api.url}/jobs`);
      await page.waitForSelector('[data-testid="job-list"]');
      await page.evaluate('window.__sameDocument = true');
      const operator = { sub: 'operator@example.com', tenant: h.tenant, roles: ['operator' as const] };
      const r = await h.plane().control.execute(operator, { selector: { ids } }, { kind: 'action', action: 'locate_on' });
      expect(r.job).toBeTruthy();
      await page.waitForSelector(`tr[data-job="${r.job!.id}"]:is([data-status="succeeded"], [data-status="partially_failed"], [data-status="failed"])`, { timeout: 30_000 });
      expect(await page.evaluate('window.__sameDocument === true')).toBe(true);
    });

    it('creates a curtailment schedule from the form and removes it', async () => {
      const page = await loginAs('operator');
      await page.goto(`${h.api.url}/schedules`);
      const form = '[data-testid="schedule-form"]';
      await expectAccessible(page);
      await page.fill(`${form} input[name="name"]`, 'night cap');
      await page.fill(`${form} input[name="site"]`, h.deadBoard.site);
      await page.fill(`${form} input[name="cron"]`, 'not a cron');
      await page.click('button:text("Create schedule")');
      await page.waitForSelector('h1:text("Cannot do that")');
      expect(await page.textContent('main')).toContain('cron');
      await page.goto(`${h.api.url}/schedules`);
      await page.fill(`${form} input[name="name"]`, 'night cap');
      await page.fill(`${form} input[name="site"]`, h.deadBoard.site);
      await page.fill(`${form} input[name="cron"]`, '0 22 * * *');
      await page.fill(`${form} input[name="minutes"]`, '90');
      await page.selectOption(`${form} select[name="action"]`, 'power_target');
      await page.fill(`${form} input[name="watt"]`, '2000');
      await Promise.all([page.waitForURL(/\/schedules$/), page.click('button:text("Create schedule")')]);
      const row = page.locator('table[data-testid="schedules"] tr', { hasText: 'night cap' });
      expect(await row.textContent()).toContain('power target 2000 W');
      const caller = { sub: 'v', tenant: h.tenant, roles: ['viewer' as const] };
      const created = (await h.plane().schedules.list(caller)).find(x => x.name === 'night cap')!;
      expect(created).toMatchObject({ cron: '0 22 * * *', duration_ms: 5_400_000, selector: { site: h.deadBoard.site }, created_by: 'operator@example.com' });
      await Promise.all([page.waitForURL(/\/schedules$/), row.locator('button:text("Remove")').click()]);
      expect(await page.locator('table[data-testid="schedules"] tr', { hasText: 'night cap' }).count()).toBe(0);
      expect((await h.plane().schedules.list(caller)).some(x => x.name === 'night cap')).toBe(false);
    });

    it('starts a firmware rollout after a dry-run plan that says which miners can upgrade and why not', async () => {
      const admin = { sub: 'admin@example.com', tenant: h.tenant, roles: ['admin' as const] };
      const next = '2026-07-01-0-0badc0de-26.07-plus';
      await h.plane().firmware.upload(admin, { name: 'console-next.img' }, buildFirmwareImage({ version: next }));
      await h.plane().firmware.upload(admin, { name: 'console-s9.img' }, buildFirmwareImage({ version: '2026-07-02-0-5e6f7081-26.07-plus', platform: 'PLATFORM_AM1_S9' }));
      const ids = [spare(5), spare(6)];
      const page = await loginAs('operator');
      await page.goto(`${h.api.url}/jobs`);
      await page.click('[data-testid="new-rollout"]');
      await page.waitForSelector('[data-testid="rollout-form"]');
      await expectAccessible(page);
      // an image for another platform: every miner is excluded, with the reason, and nothing can start
      await page.selectOption('select[name="image"]', { label: '2026-07-02-0-5e6f7081-26.07-plus · console-s9.img · PLATFORM_AM1_S9' });
      await page.fill('input[name="ids"]', ids.join(', '));
      await page.click('button:text("Preview (dry run)")');
      await page.waitForSelector('[data-testid="rollout-plan"]');
      for (const id of ids) expect(await page.textContent(`[data-testid="rollout-miners"] tr:has(th:text-is("${id}"))`)).toMatch(/cannot upgrade.*built for PLATFORM_AM1_S9/);
      expect(await page.locator('button:text("Start rollout")').count()).toBe(0);
      await page.goto(`${h.api.url}/rollouts/new`);
      await page.selectOption('select[name="image"]', { label: `${next} · console-next.img` });
      await page.fill('input[name="ids"]', ids.join(', '));
      await page.fill('input[name="canary_size"]', '1');
      await page.fill('input[name="hashrate_gate_pct"]', '80');
      await page.click('button:text("Preview (dry run)")');
      await page.waitForSelector('[data-testid="rollout-plan"]');
      const plan = await page.textContent('[data-testid="rollout-plan"]');
      expect(plan).toContain('2 can upgrade');
      expect(plan).toContain('2 waves (canary of 1');
      expect(plan).toContain('hashrate back to 80 %');
      await page.screenshot({ path: shot('rollout-plan.png'), fullPage: true });
      await expectAccessible(page);
      for (const id of ids) expect(h.fleet.truth(id).firmware).not.toBe(next);
      await page.click('button:text("Start rollout")');
      await page.waitForURL(/\/jobs\//);
      await page.waitForSelector('[data-testid="job-progress"]');
      expect(await page.textContent('h1')).toContain(next);
      // stop it here: the other tests need these miners hashing, not rebooting into new firmware
      if (await page.locator('button:text("Cancel job")').count()) await page.click('button:text("Cancel job")');
    });

    it('shows a viewer none of the new action forms, and the server refuses them anyway', async () => {
      const page = await loginAs('viewer');
      await page.goto(`${h.api.url}/miners/${spare(0)}`);
      await page.waitForSelector('table[data-testid="boards"]');
      for (const t of ['more-actions', 'pools-form', 'cooling-form', 'hashboards-form']) expect(await page.locator(`[data-testid="${t}"]`).count(), t).toBe(0);
      await page.goto(`${h.api.url}/schedules`);
      await page.waitForSelector('h1:text("Schedules")');
      expect(await page.locator('[data-testid="schedule-form"]').count()).toBe(0);
      expect(await page.locator('button:text("Remove")').count()).toBe(0);
      await page.goto(`${h.api.url}/jobs`);
      expect(await page.locator('[data-testid="new-rollout"]').count()).toBe(0);
      const r = await page.goto(`${h.api.url}/rollouts/new`);
      expect(r!.status()).toBe(403);
      const jobs = await h.plane().jobs.list({ sub: 'v', tenant: h.tenant, roles: ['viewer'] }, { limit: 1 });
      await page.goto(`${h.api.url}/jobs/${jobs.items[0]!.id}`);
      expect(await page.locator('[data-testid="job-actions"]').count()).toBe(0);
      await page.goto(`${h.api.url}/miners/${spare(0)}`);
      const csrf = await page.getAttribute('meta[name="csrf-token"]', 'content');
      const post = (path: string, body: string): Promise<unknown> =>
        page.evaluate(`fetch('${path}', { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: '${body}&_csrf=${csrf}' }).then(r => r.status)`);
      expect(await post(`/miners/${spare(0)}/pools`, 'url=stratum%2Btcp%3A%2F%2Fx.example%3A3333&user=u')).toBe(403);
      expect(await post(`/miners/${spare(0)}/cooling`, 'mode=immersion')).toBe(403);
      expect(await post(`/miners/${spare(0)}/hashboards`, 'op=disable&boards=0')).toBe(403);
      expect(await post(`/jobs/${jobs.items[0]!.id}/pause`, 'x=1')).toBe(403);
      expect(await post('/schedules', 'name=x&cron=0%2022%20*%20*%20*&minutes=60&action=pause')).toBe(403);
      expect(await post('/rollouts', 'image=x&ids=a')).toBe(403);
    });
  });

  describe('console: scripts', () => {
    // last in the file, so it sees every page the tests above opened
    it('ran every page without script or Content-Security-Policy errors', () => {
      expect(h.pageErrors).toEqual([]);
    });
  });
});
