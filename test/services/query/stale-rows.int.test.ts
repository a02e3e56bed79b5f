import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Caller } from '../../../services/context.ts';
import { FleetQuery } from '../../../services/query/fleet-query.ts';
import { BACKENDS } from '../../store/backends.ts';
import { openFleetFixture, type FleetFixture } from './fleet-fixture.ts';

// A miner is stale when the collector stopped refreshing it, not when the API serves its cached
// table a little longer: at a short poll interval a table served from cache marked nearly every
// fresh miner stale (the console's fleet screen showed 15 of 16 miners as "stale data").

const acme: Caller = { sub: 'alice', tenant: 'acme', roles: ['viewer'] };
const POLL_MS = 200;

describe.each(BACKENDS)('stale rows (%s)', backend => {
  let fx: FleetFixture;
  let fq: FleetQuery;

  beforeAll(async () => {
    fx = await openFleetFixture(backend, { historyMinutes: 1 });
    fq = new FleetQuery({ store: fx.store }, { pollIntervalMs: POLL_MS, tableFreshMs: 60_000 });
  });

  afterAll(async () => {
    await fq?.close();
    await fx?.cleanup();
  });

  it('a miner fresh when the table was read stays fresh while that table is served', async () => {
    const snap = fx.snapshots.find(s => s.ref.tenant === 'acme' && s.status === 'online' && s.sample)!;
    const seen = Date.now();
    await fx.store.state.putSnapshots([{ ...snap, last_seen_ms: seen, last_poll_ms: seen }]);
    fq.clearCaches();
    const first = (await fq.listMiners(acme, { limit: 500 })).items.find(i => i.id === snap.ref.id)!;
    expect(first.stale).toBe(false);
    // Let more than 3 poll intervals pass: the cached table (fresh for 60 s) is served again.
    while (Date.now() - seen <= 4 * POLL_MS) await new Promise(r => setTimeout(r, POLL_MS));
    const again = (await fq.listMiners(acme, { limit: 500 })).items.find(i => i.id === snap.ref.id)!;
    expect(again.stale).toBe(false);
  });

  it('a miner the collector stopped refreshing is stale', async () => {
    const snap = fx.snapshots.find(s => s.ref.tenant === 'acme' && s.status === 'online' && s.sample)!;
    const seen = Date.now() - 10 * POLL_MS;
    await fx.store.state.putSnapshots([{ ...snap, last_seen_ms: seen, last_poll_ms: seen }]);
    fq.clearCaches();
    const row = (await fq.listMiners(acme, { limit: 500 })).items.find(i => i.id === snap.ref.id)!;
    expect(row.stale).toBe(true);
  });
});
