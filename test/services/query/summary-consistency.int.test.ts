import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Caller } from '../../../services/context.ts';
import { FleetQuery } from '../../../services/query/fleet-query.ts';
import type { MinerSnapshot } from '../../../core/samples.ts';
import { BACKENDS } from '../../store/backends.ts';
import { POLL_MS, openFleetFixture, type FleetFixture } from './fleet-fixture.ts';

// Issue #14 item 12: the fleet summary and the miner list come from the same state and agree
// after every change; by_model counts every miner (an offline one with no model in its
// snapshot is named by its inventory label) and has hashrate and power.

const acme: Caller = { sub: 'alice', tenant: 'acme', roles: ['viewer'] };
describe.each(BACKENDS)('%s', backend => {
  let fx: FleetFixture;
  let fq: FleetQuery;

  beforeAll(async () => {
    fx = await openFleetFixture(backend, { historyMinutes: 20 });
    fq = new FleetQuery({ store: fx.store }, { pollIntervalMs: POLL_MS, now: () => fx.nowMs });
  });

  afterAll(async () => {
    await fq?.close();
    await fx?.cleanup();
  });

  async function listAll(): Promise<Awaited<ReturnType<FleetQuery['listMiners']>>['items']> {
    return (await fq.listMiners(acme, { limit: 500 })).items;
  }

  describe('summary and list agree', () => {
    it('after a change to one miner both show it, and by_model is complete', async () => {
      const mine = fx.snapshots.filter(s => s.ref.tenant === 'acme');
      const online = mine.find(s => s.status === 'online' && s.sample)!;
      // A miner goes offline and its snapshot has no model any more; the inventory label names it.
      const gone: MinerSnapshot = {
        ...online,
        ref: { ...online.ref, labels: { ...online.ref.labels, model: online.sample!.model } },
        status: 'offline',
        sample: null,
        details: null,
      };
      await fx.store.state.putSnapshots([gone]);
      fq.clearCaches();
      const [s, items] = [await fq.summary(acme), await listAll()];
      expect(items.find(i => i.id === gone.ref.id)!.status).toBe('offline');
      const sum = (f: (i: (typeof items)[number]) => number | null): number => items.reduce((a, i) => a + (f(i) ?? 0), 0);
      expect(s.totals.miners).toBe(items.length);
      expect(s.totals.by_status.offline).toBe(items.filter(i => i.status === 'offline').length);
      expect(s.totals.hashrate_ths).toBeCloseTo(sum(i => i.hashrate_ths), 1);
      expect(s.totals.power_kw).toBeCloseTo(sum(i => i.power_w) / 1_000, 1);
      // by_model: every miner counted, with hashrate and power per model
      expect(s.by_model.reduce((a, m) => a + m.miners, 0)).toBe(items.length);
      for (const m of s.by_model) {
        const of = items.filter(i => (i.model ?? 'unknown') === m.model);
        expect(m.miners, m.model).toBe(of.length);
        expect(m.hashrate_ths, m.model).toBeCloseTo(of.reduce((a, i) => a + (i.hashrate_ths ?? 0), 0), 1);
        expect(m.power_kw, m.model).toBeCloseTo(of.reduce((a, i) => a + (i.power_w ?? 0), 0) / 1_000, 1);
      }
      expect(items.find(i => i.id === gone.ref.id)!.model).toBe(online.sample!.model);
    });
  });

  describe('a miner read alone agrees with its list row', () => {
    it('paused with a lagging hashrate window, and with a dead board', async () => {
      const mine = fx.snapshots.filter(s => s.ref.tenant === 'acme' && s.status === 'online' && s.sample && s.sample.hashboards.length >= 3);
      const [p, d] = [mine[0]!, mine[1]!];
      const paused: MinerSnapshot = {
        ...p,
        status: 'paused',
        sample: { ...p.sample!, status: 'paused', miner_status: 'paused', power_w: 50, efficiency_jth: 0.42 },
      };
      const boards = d.sample!.hashboards.map((b, i) => (i === 0 ? { ...b, hashrate_ghs: 0, hashrate_nominal_ghs: 0 } : b));
      const dead: MinerSnapshot = {
        ...d,
        sample: {
          ...d.sample!,
          hashboards: boards,
          boards_hashing: boards.length - 1,
          hashrate_nominal_ghs: boards.reduce((a, b) => a + b.hashrate_nominal_ghs, 0),
        },
      };
      await fx.store.state.putSnapshots([paused, dead]);
      fq.clearCaches();
      const items = await listAll();
      for (const id of [paused.ref.id, dead.ref.id]) {
        const row = items.find(i => i.id === id)!;
        const one = await fq.getMiner(acme, id);
        for (const k of ['hashrate_ths', 'hashrate_nominal_ths', 'pct_nominal', 'efficiency_jth'] as const) expect(one[k], `${id} ${k}`).toBe(row[k]);
      }
      const p1 = await fq.getMiner(acme, paused.ref.id);
      expect(p1.hashrate_ths).toBe(0);
      expect(p1.efficiency_jth).toBeNull();
      const d1 = await fq.getMiner(acme, dead.ref.id);
      expect(d1.boards[0]!.pct_nominal).toBe(0);
      expect(d1.boards[0]!.hashrate_nominal_ths).toBeGreaterThan(0);
    });
  });
});
