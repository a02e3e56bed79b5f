/**
 * Runs `fn` over `items` with at most `limit` calls in flight. Before each item `before()` runs
 * (pause/cancel checkpoint); when it or `fn` throws, that lane stops taking new items, the
 * others finish what they have in flight and stop at their next `before()`, and the first
 * error is rethrown once everything in flight has settled. Returns the indexes not started.
 */
export async function forEachLimit<T>(
  items: readonly T[],
  limit: number,
  fn: (item: T, index: number) => Promise<void>,
  before?: () => Promise<void>,
): Promise<{ notStarted: number[] }> {
  let next = 0;
  let failure: { err: unknown } | null = null;
  const lane = async (): Promise<void> => {
    while (failure === null && next < items.length) {
      try {
        if (before) await before();
      } catch (err) {
        failure ??= { err };
        return;
      }
      if (failure !== null || next >= items.length) return;
      const i = next++;
      try {
        await fn(items[i] as T, i);
      } catch (err) {
        failure ??= { err };
        return;
      }
    }
  };
  const lanes = Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, () => lane());
  await Promise.all(lanes);
  const notStarted: number[] = [];
  for (let i = next; i < items.length; i++) notStarted.push(i);
  if (failure !== null) {
    const err = (failure as { err: unknown }).err;
    throw Object.assign(err instanceof Error ? err : new Error(String(err)), { notStarted });
  }
  return { notStarted };
}

/** The indexes a forEachLimit failure left unstarted (empty when the error did not come from it). */
export function notStartedOf(err: unknown): number[] {
  const v = (err as { notStarted?: unknown } | null)?.notStarted;
  return Array.isArray(v) ? (v as number[]) : [];
}

/** A promise that resolves after `ms`, early when `signal` aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise(resolve => {
    if (signal?.aborted) return resolve();
    const t = setTimeout(done, ms);
    function done(): void {
      clearTimeout(t);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}
