import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { EnergyExecutionRecord } from '../../store/ports/energy.ts';
import { BACKENDS, openTestStore, type TestStore } from './backends.ts';

// The energy port on both backends: the same assertions, real Redis and real SQLite.

const exec = (tenant: string, id: string, created_ms: number, extra: Record<string, unknown> = {}): EnergyExecutionRecord =>
  ({ id, tenant, policy_id: 'p', created_ms, finished_ms: null, ...extra }) as EnergyExecutionRecord;

describe.each(BACKENDS)('energy port (%s)', backend => {
  let store: TestStore;
  beforeEach(async () => {
    store = await openTestStore(backend);
  });
  afterEach(async () => {
    await store?.destroy();
  });

  it("keeps each tenant's policies to itself, and the same id in two tenants apart", async () => {
    const e = store.energy;
    await e.savePolicy({ id: 'night', tenant: 'a', created_ms: 2, strike: 1 } as never);
    await e.savePolicy({ id: 'peak', tenant: 'a', created_ms: 1 });
    await e.savePolicy({ id: 'peak', tenant: 'b', created_ms: 3, strike: 9 } as never);
    expect((await e.listPolicies('a')).map(p => p.id)).toEqual(['peak', 'night']);
    expect(await e.getPolicy('b', 'peak')).toEqual({ id: 'peak', tenant: 'b', created_ms: 3, strike: 9 });
    expect(await e.getPolicy('b', 'night')).toBeNull();
    expect((await e.listAllPolicies()).length).toBe(3);
    expect(await e.deletePolicy('b', 'night')).toBe(false);
    expect(await e.deletePolicy('a', 'peak')).toBe(true);
    expect((await e.listPolicies('a')).map(p => p.id)).toEqual(['night']);
    expect(await e.getPolicy('b', 'peak')).not.toBeNull();
  });

  it('creates an execution once (the first frozen plan wins), lists open ones, and survives a restart', async () => {
    const e = store.energy;
    expect(await e.createExecution(exec('a', 'w1', 10, { plan: 'first' }), 10)).toBe(true);
    expect(await e.createExecution(exec('a', 'w1', 11, { plan: 'second' }), 10)).toBe(false);
    expect(await e.getExecution('a', 'w1')).toMatchObject({ plan: 'first' });
    expect(await e.getExecution('b', 'w1')).toBeNull();
    await e.createExecution(exec('a', 'w2', 20), 10);
    expect((await e.openExecutions()).map(x => x.id)).toEqual(['w1', 'w2']);
    await e.updateExecution({ ...(await e.getExecution('a', 'w1'))!, finished_ms: 30 });
    expect((await e.openExecutions()).map(x => x.id)).toEqual(['w2']);
    expect((await e.listExecutions('a', 10)).map(x => x.id)).toEqual(['w2', 'w1']);
    expect(await e.claimStep('w2', 'curtail|a|60000', 'r1', 60_000)).toBe(true);
    await e.saveStepRun('w2', { key: 'curtail|a|60000', jobs: ['j1'] });
    await e.savePrices('a/p', { curve: { x: 1 }, last_attempt_ms: 5, last_success_ms: 5, last_error: null, missing_since_ms: null });
    store = await (await store.close().then(() => store)).reopen();
    const r = store.energy;
    expect(await r.claimStep('w2', 'curtail|a|60000', 'r2', 60_000)).toBe(false);
    expect(await r.claimStep('w2', 'curtail|a|120000', 'r2', 60_000)).toBe(true);
    expect(await r.stepRuns('w2')).toEqual([{ key: 'curtail|a|60000', jobs: ['j1'] }]);
    expect((await r.prices('a/p'))?.curve).toEqual({ x: 1 });
    expect((await r.openExecutions()).map(x => x.id)).toEqual(['w2']);
  });

  it('a step claim is won by exactly one of many racing claimers', async () => {
    const e = store.energy;
    const wins = await Promise.all(Array.from({ length: 20 }, (_, i) => e.claimStep('x', 'restore|a|1', `r${i}`, 60_000)));
    expect(wins.filter(Boolean)).toHaveLength(1);
  });

  it('a claim is renewed only by its holder, and a lapsed claim is anyone\'s', async () => {
    const e = store.energy;
    expect(await e.claimStep('x', 'restore|a|1', 'r1', 300)).toBe(true);
    expect(await e.renewClaim('x', 'restore|a|1', 'r2', 60_000)).toBe(false);
    expect(await e.renewClaim('x', 'restore|a|1', 'r1', 60_000)).toBe(true);
    expect(await e.renewClaim('x', 'restore|a|2', 'r1', 60_000)).toBe(false); // never claimed
    // renewed for a minute: not free after the first 300 ms
    await new Promise(r => setTimeout(r, 400));
    expect(await e.claimStep('x', 'restore|a|1', 'r2', 60_000)).toBe(false);
    // a claim nobody renews lapses; then its old holder cannot renew it and another can claim it
    expect(await e.claimStep('x', 'curtail|a|1', 'r1', 100)).toBe(true);
    await expect.poll(() => e.claimStep('x', 'curtail|a|1', 'r2', 60_000), { timeout: 5_000, interval: 50 }).toBe(true);
    expect(await e.renewClaim('x', 'curtail|a|1', 'r1', 60_000)).toBe(false);
  });

  it('keeps the newest finished executions of a tenant, never an open one', async () => {
    const e = store.energy;
    await e.createExecution(exec('a', 'open-old', 1), 2);
    for (let i = 2; i < 6; i++) await e.createExecution(exec('a', `done-${i}`, i, { finished_ms: i }), 2);
    const ids = (await e.listExecutions('a', 10)).map(x => x.id);
    expect(ids).toContain('open-old');
    expect(ids).toContain('done-5');
    expect(ids).not.toContain('done-2');
  });
});
