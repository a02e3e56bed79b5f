import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { FleetError } from '../../../core/errors.ts';
import type { ApiInfra, Caller } from '../../../services/context.ts';
import { MinerResolver } from '../../../services/control/selector.ts';
import { influxRedisStoreOver } from '../../../store/influx-redis/index.ts';
import { seedFleet, type FarmFleetFixture } from '../query/fleet-fixture.ts';

// Control targets accept what users type (issue 15): `ids` in a selector and the miner of a
// single-miner request may be an id, hostname or IP in any case, resolved by the same module as
// the read side (services/query/miner-ref.ts); a hostname two miners share is refused, not guessed.
// Real Redis: the fixture's snapshots plus the collector's resolved inventory written here.

const acme: Caller = { sub: 'alice', tenant: 'acme', roles: ['operator'] };
let fx: FarmFleetFixture;
let resolver: MinerResolver;

beforeAll(async () => {
  fx = await seedFleet({ influxUrl: inject('influxUrl'), redisUrl: inject('redisUrl'), historyMinutes: 10 });
  for (const m of fx.miners) {
    const [host, port] = m.address.split(':');
    await fx.redis.hset(
      fx.keys.resolvedInventory(),
      m.id,
      JSON.stringify({ id: m.id, host, port: Number(port), tenant: m.tenant, site: m.site, credentials: 'default', labels: m.labels, source: 'file' }),
    );
  }
  const store = influxRedisStoreOver({ redis: fx.redis, keys: fx.keys, influx: fx.influx });
  resolver = new MinerResolver({ store, redis: fx.redis, keys: fx.keys, log: { warn() {}, info() {}, error() {}, debug() {} } } as unknown as ApiInfra);
});

afterAll(async () => {
  await fx?.cleanup();
});

describe('control selectors resolve what users type', () => {
  it('ids may be hostnames, IPs or ids in another case', async () => {
    const [a, b, c] = fx.tenantMiners('acme');
    const sel = await resolver.resolve(acme, { ids: [a!.hostname.toUpperCase(), b!.address.split(':')[0]!, c!.id.toUpperCase()] });
    expect(sel.not_found).toEqual([]);
    expect(sel.miners.map(m => m.id)).toEqual([a!.id, b!.id, c!.id].sort());
  });

  it('one() takes a hostname; an unknown one is not found with close matches', async () => {
    const a = fx.tenantMiners('acme')[0]!;
    expect((await resolver.one(acme, a.hostname)).id).toBe(a.id);
    await expect(resolver.one(acme, `${a.id}x`)).rejects.toThrow(new RegExp(`unknown miner '${a.id}x'; did you mean '${a.id}'`));
  });

  it('model may be the key (s21) as well as the full name', async () => {
    const want = fx.tenantMiners('acme').filter(m => m.model === 'Antminer S21').map(m => m.id).sort();
    expect((await resolver.resolve(acme, { model: 's21' })).miners.map(m => m.id)).toEqual(want);
    expect((await resolver.resolve(acme, { model: 'antminer s21' })).miners.map(m => m.id)).toEqual(want);
  });

  it("another tenant's hostname is not found", async () => {
    const g = fx.tenantMiners('globex')[0]!;
    const sel = await resolver.resolve(acme, { ids: [g.hostname] });
    expect(sel.miners).toEqual([]);
    expect(sel.not_found).toEqual([g.hostname]);
  });

  it('a hostname two miners share is refused, naming both', async () => {
    const [a, b] = fx.tenantMiners('acme');
    const snap = JSON.parse((await fx.redis.get(fx.keys.snapshot(b!.id)))!) as { sample?: { hostname: string } };
    snap.sample!.hostname = a!.hostname;
    await fx.redis.set(fx.keys.snapshot(b!.id), JSON.stringify(snap));
    const err = await resolver.one(acme, a!.hostname.toUpperCase()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(FleetError);
    expect((err as FleetError).code).toBe('invalid_argument');
    expect((err as FleetError).message).toMatch(new RegExp(`names 2 miners: ${a!.id} .*${b!.id}`));
  });
});
