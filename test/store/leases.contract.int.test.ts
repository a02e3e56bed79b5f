import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BACKENDS, openTestStore, type TestStore } from './backends.ts';

async function until<T>(what: string, read: () => Promise<T>, ok: (v: T) => boolean, timeoutMs = 5_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await read();
    if (ok(v)) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}: last ${JSON.stringify(v)}`);
    await new Promise(r => setTimeout(r, 20));
  }
}

describe.each(BACKENDS)('leases port on %s', backend => {
  let store: TestStore;

  beforeEach(async () => {
    store = await openTestStore(backend);
  });

  afterEach(async () => {
    await store.destroy();
  });

  it('renews a member and returns every live member with its view, in the same call', async () => {
    const a = await store.leases.renew('a', [], 60_000);
    expect(a.continued).toBe(false);
    expect(a.members).toEqual([{ member: 'a', view: [], prev: [], sinceMs: a.nowMs }]);
    const b = await store.leases.renew('b', ['b', 'a'], 60_000);
    expect(b.members.map(m => m.member)).toEqual(['a', 'b']);
    expect(b.members[1]).toEqual({ member: 'b', view: ['a', 'b'], prev: [], sinceMs: b.nowMs });
    expect((await store.leases.round()).members.map(m => m.member)).toEqual(['a', 'b']);
  });

  it('keeps prev and since while the view is unchanged, and records the old view when it changes', async () => {
    const first = await store.leases.renew('a', ['a'], 60_000);
    await until('the store clock to move', () => store.leases.round(), r => r.nowMs > first.nowMs);
    const same = await store.leases.renew('a', ['a'], 60_000);
    expect(same.continued).toBe(true);
    expect(same.members[0]).toEqual({ member: 'a', view: ['a'], prev: [], sinceMs: first.nowMs });
    await until('the store clock to move', () => store.leases.round(), r => r.nowMs > same.nowMs);
    const changed = await store.leases.renew('a', ['a', 'b'], 60_000);
    expect(changed.members[0]).toEqual({ member: 'a', view: ['a', 'b'], prev: ['a'], sinceMs: changed.nowMs });
    expect(changed.nowMs).toBeGreaterThan(first.nowMs);
  });

  it('forgets a member whose lease expired; renewing it then starts over', async () => {
    await store.leases.renew('a', ['a'], 60_000);
    await store.leases.renew('gone', ['a', 'gone'], 150);
    const after = await until('the short lease to expire', () => store.leases.round(), r => r.members.length === 1, 5_000);
    expect(after.members.map(m => m.member)).toEqual(['a']);
    const back = await store.leases.renew('gone', ['a', 'gone'], 60_000);
    expect(back.continued).toBe(false);
    expect(back.members.find(m => m.member === 'gone')).toEqual({ member: 'gone', view: ['a', 'gone'], prev: [], sinceMs: back.nowMs });
  });

  it('a renewal pushes the expiry out', async () => {
    await store.leases.renew('a', [], 400);
    const t0 = Date.now();
    // Renewed every 100 ms for 1 s: still live long after the first 400 ms.
    while (Date.now() - t0 < 1_000) {
      const r = await store.leases.renew('a', [], 400);
      expect(r.continued).toBe(true);
      await new Promise(r2 => setTimeout(r2, 100));
    }
    expect((await store.leases.round()).members.map(m => m.member)).toEqual(['a']);
  });

  it('release ends a lease at once', async () => {
    await store.leases.renew('a', ['a'], 60_000);
    await store.leases.renew('b', ['a', 'b'], 60_000);
    await store.leases.release('a');
    expect((await store.leases.round()).members.map(m => m.member)).toEqual(['b']);
    expect((await store.leases.renew('a', [], 60_000)).continued).toBe(false);
  });

  it('returns the instance of the renewal before, so two processes under one member id can tell', async () => {
    expect((await store.leases.renew('a', [], 60_000, 'p1')).previousInstance).toBe(null);
    expect((await store.leases.renew('a', [], 60_000, 'p1')).previousInstance).toBe('p1');
    expect((await store.leases.renew('a', [], 60_000, 'p2')).previousInstance).toBe('p1');
    expect((await store.leases.renew('a', ['a'], 60_000, 'p1')).previousInstance).toBe('p2');
  });

  it('rejects member ids that cannot travel in a view', async () => {
    await expect(store.leases.renew('a,b', [], 1_000)).rejects.toMatchObject({ code: 'invalid_argument' });
    await expect(store.leases.renew('a', ['x y'], 1_000)).rejects.toMatchObject({ code: 'invalid_argument' });
    await expect(store.leases.renew('a', [], 0)).rejects.toMatchObject({ code: 'invalid_argument' });
  });
});
