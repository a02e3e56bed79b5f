import { describe, expect, it } from 'vitest';
import { TenantGate } from '../../../api/plugins/tenant-gate.ts';

// The per-tenant fair share behind /mcp: slots per tenant, a bounded queue in arrival order,
// tenants independent of each other, a waiter that goes away leaves the queue.
describe('TenantGate', () => {
  it('runs maxActive per tenant, queues maxQueued in order, refuses the rest; other tenants are unaffected', async () => {
    const gate = new TenantGate(2, 2);
    const a1 = (await gate.acquire('a'))!;
    const a2 = (await gate.acquire('a'))!;
    const order: string[] = [];
    const q1 = gate.acquire('a').then(r => (order.push('q1'), r));
    const q2 = gate.acquire('a').then(r => (order.push('q2'), r));
    expect(await gate.acquire('a')).toBeNull();
    expect(gate.load('a')).toEqual({ active: 2, queued: 2 });
    const b1 = await gate.acquire('b');
    expect(b1).toBeTypeOf('function');
    a1();
    a1(); // a second call of the same release changes nothing
    const r1 = (await q1)!;
    expect(gate.load('a')).toEqual({ active: 2, queued: 1 });
    a2();
    const r2 = (await q2)!;
    expect(order).toEqual(['q1', 'q2']);
    r1();
    r2();
    b1!();
    expect(gate.load('a')).toEqual({ active: 0, queued: 0 });
    expect(gate.load('b')).toEqual({ active: 0, queued: 0 });
  });

  it('a waiter whose request goes away leaves the queue', async () => {
    const gate = new TenantGate(1, 1);
    const held = (await gate.acquire('a'))!;
    const gone = new AbortController();
    const waiting = gate.acquire('a', gone.signal);
    gone.abort();
    expect(await waiting).toBeNull();
    expect(gate.load('a')).toEqual({ active: 1, queued: 0 });
    held();
    expect(gate.load('a')).toEqual({ active: 0, queued: 0 });
  });
});
