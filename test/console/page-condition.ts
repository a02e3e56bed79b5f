import type { Page } from 'playwright-core';

const NAVIGATING = /Execution context was destroyed|Cannot find context with specified id|navigat/i;

/**
 * Waits until `expression` is truthy in the page. The expression is evaluated over the DevTools
 * protocol, a few times a second, until it holds or `timeoutMs` passes.
 *
 * Why not `page.waitForFunction(string)`: Playwright runs a string predicate with `eval()` from the
 * page's own script on every poll after the first, which the console's Content-Security-Policy
 * (no 'unsafe-eval') refuses. The wait then fails, and only when the condition was not already true
 * at the first check: a failure that shows on a busy machine only.
 */
export async function waitForPageCondition(
  page: Page,
  expression: string,
  { timeoutMs = 15_000, intervalMs = 25 }: { timeoutMs?: number; intervalMs?: number } = {},
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      last = await page.evaluate(expression);
      if (last) return;
    } catch (err) {
      // a navigation under way (back to a pushed entry reloads): ask again in the new document
      if (!NAVIGATING.test((err as Error).message)) throw err;
      last = (err as Error).message.split('\n')[0];
    }
    if (Date.now() >= deadline) break;
    await new Promise(resolve => setTimeout(resolve, intervalMs));
  }
  throw new Error(`page condition not met within ${timeoutMs} ms: ${expression} (last value: ${JSON.stringify(last)})`);
}
