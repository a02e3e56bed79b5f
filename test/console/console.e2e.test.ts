import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SCREENSHOTS, startConsoleHarness, type ConsoleHarness } from './harness.ts';

// The console in a real browser (Debian's Chromium) over a simulated fleet with faults, the
// real collector and the real API. Expected figures come from the simulator's own state.
let h: ConsoleHarness;
const axeSource = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

beforeAll(async () => {
  h = await startConsoleHarness();
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
    await page.screenshot({ path: join(SCREENSHOTS, 'fleet.png'), fullPage: true });
    await expectAccessible(page);

    // the link was for one use only
    const again = await h.newPage();
    const r = await again.goto(link);
    expect(r!.status()).toBe(401);
    await again.waitForSelector('text=has been used or has expired');
  });

  it('logs in by the link `bos-fleet token --login-link` prints', async () => {
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
    await page.screenshot({ path: join(SCREENSHOTS, 'miners.png'), fullPage: true });
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
    await page.waitForSelector('.chart[data-state]');
    await page.screenshot({ path: join(SCREENSHOTS, 'miner.png'), fullPage: true });
    await expectAccessible(page);
    // the same screen on a phone
    const phone = await loginAs('operator', { width: 390, height: 844 });
    await phone.goto(`${h.api.url}/miners/${h.deadBoard.id}`);
    await phone.waitForSelector('.chart[data-state]');
    const overflow = await phone.evaluate('document.documentElement.scrollWidth - document.documentElement.clientWidth');
    expect(overflow).toBeLessThanOrEqual(1);
    await phone.screenshot({ path: join(SCREENSHOTS, 'miner-phone.png'), fullPage: true });
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
    await page.screenshot({ path: join(SCREENSHOTS, 'dry-run.png'), fullPage: true });
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
    await page.screenshot({ path: join(SCREENSHOTS, 'events.png'), fullPage: true });
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
    // the progress fragment refreshes itself (htmx) until the job is final
    await page.waitForSelector('[data-testid="job-progress"][data-status="succeeded"], [data-testid="job-progress"][data-status="partially_failed"]', { timeout: 30_000 });
    const results = await page.textContent('table[data-testid="job-results"]');
    for (const id of ids) expect(results).toContain(id);
    h.fleet.clearFault(h.healthy.id, 'slow');
    expect(h.fleet.truth(h.healthy.id).status).toBe('MINER_STATUS_NORMAL');
    await page.screenshot({ path: join(SCREENSHOTS, 'job.png'), fullPage: true });
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
    await page.screenshot({ path: join(SCREENSHOTS, 'racks.png'), fullPage: true });
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

  it('fits the fleet screen on a phone', async () => {
    const phone = await loginAs('operator', { width: 390, height: 844 });
    await phone.waitForSelector('.chart[data-state]');
    expect(await phone.evaluate('document.documentElement.scrollWidth - document.documentElement.clientWidth')).toBeLessThanOrEqual(1);
    await phone.screenshot({ path: join(SCREENSHOTS, 'fleet-phone.png'), fullPage: true });
  });
});

describe('console: scripts', () => {
  // last in the file, so it sees every page the tests above opened
  it('ran every page without script or Content-Security-Policy errors', () => {
    expect(h.pageErrors).toEqual([]);
  });
});
