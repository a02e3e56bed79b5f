import { readFileSync } from 'node:fs';
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
  const result = await page.evaluate(async () => {
    const r = await (window as unknown as { axe: { run(o: unknown): Promise<{ violations: { id: string; impact: string; nodes: { target: string[] }[] }[] }> } }).axe.run({ resultTypes: ['violations'] });
    return r.violations.map(v => ({ id: v.id, impact: v.impact, targets: v.nodes.slice(0, 3).map(n => n.target.join(' ')) }));
  });
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
    expect(await page.evaluate(() => document.cookie)).not.toContain('bosfleet_session');

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
    await page.waitForSelector('.chart[data-state]');
    await page.screenshot({ path: join(SCREENSHOTS, 'fleet.png'), fullPage: true });
    await expectAccessible(page);

    // the link was for one use only
    const again = await h.newPage();
    const r = await again.goto(link);
    expect(r!.status()).toBe(401);
    await again.waitForSelector('text=has been used or has expired');
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
    const status = await page.evaluate(async id => {
      const r = await fetch(`/miners/${id}/actions`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'action=pause' });
      return r.status;
    }, h.healthy.id);
    expect(status).toBe(403);
    const cookie = (await page.context().cookies()).find(c => c.name === 'bosfleet_session')!;
    const r = await fetch(`${h.api.url}/logout`, { method: 'POST', headers: { cookie: `bosfleet_session=${cookie.value}`, origin: 'https://evil.example', 'content-type': 'application/x-www-form-urlencoded' }, body: '_csrf=x', redirect: 'manual' });
    expect(r.status).toBe(403);
  });
});
