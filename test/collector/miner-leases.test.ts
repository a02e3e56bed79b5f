import { afterEach, describe, expect, it } from 'vitest';
import { MinerLeases } from '../../collector/leases/miner-leases.ts';
import { FleetError } from '../../core/errors.ts';
import { ownerOf } from '../../collector/leases/assignment.ts';
import { silentLogger } from '../../runtime/logger.ts';
import { InProcessLeases } from '../../store/embedded/leases.ts';
import type { LeasesPort } from '../../store/ports/leases.ts';

// Several MinerLeases over one leases port (members of one process here, so what each holds
// can be compared at any instant): members join, stop and die; no miner is ever held by two,
// and once membership is stable every miner is held by exactly one.
const MINERS = Array.from({ length: 200 }, (_, i) => `m${i}`);
const TTL_MS = 90;
const SETTLE_MS = 30;

const members = new Map<string, MinerLeases>();
afterEach(async () => {
  for (const m of members.values()) await m.stop();
  members.clear();
});

function holders(): Map<string, string[]> {
  const by = new Map<string, string[]>();
  for (const [name, m] of members) for (const id of MINERS) if (m.owns(id)) by.set(id, [...(by.get(id) ?? []), name]);
  return by;
}

const doubles: string[] = [];
function check(): void {
  for (const [id, who] of holders()) if (who.length > 1) doubles.push(`${id}: ${who.join('+')}`);
}

async function join(port: LeasesPort, name: string): Promise<MinerLeases> {
  const m = new MinerLeases({ leases: port, member: name, ttlMs: TTL_MS, settleMs: SETTLE_MS, log: silentLogger(), onChange: check });
  members.set(name, m);
  await m.start();
  m.setMiners(MINERS);
  return m;
}

/** every miner held by exactly one member: the one rendezvous hashing gives it among the members */
async function allHeldOnce(timeoutMs = 3_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    check();
    const by = holders();
    const names = [...members.keys()];
    const wrong = MINERS.filter(id => by.get(id)?.length !== 1 || by.get(id)![0] !== ownerOf(id, names));
    if (wrong.length === 0) return;
    if (Date.now() > deadline) throw new Error(`${wrong.length} miners not held by their one member`);
    await new Promise(r => setTimeout(r, 5));
  }
}

describe('MinerLeases', () => {
  it('gives every miner to exactly one member through joins, clean stops and deaths', async () => {
    const port = new InProcessLeases();
    const probe = setInterval(check, 1);
    try {
      await join(port, 'a');
      await allHeldOnce();
      expect(MINERS.filter(id => members.get('a')!.owns(id))).toHaveLength(MINERS.length);
      await join(port, 'b');
      // c's release is lost, as if it died: its record has to expire
      await join({ renew: (m, v, t) => port.renew(m, v, t), round: () => port.round(), release: async () => undefined }, 'c');
      await allHeldOnce();
      // a clean stop hands over at once
      await members.get('b')!.stop();
      members.delete('b');
      await allHeldOnce();
      // a death: c stops renewing and its record must expire first
      await members.get('c')!.stop();
      members.delete('c');
      expect((await port.round()).members.map(m => m.member)).toContain('c');
      await join(port, 'd');
      await allHeldOnce();
      expect(doubles).toEqual([]);
    } finally {
      clearInterval(probe);
    }
  });

  it('holds nothing of a miner another member claims, until that member lets it go and it has settled', async () => {
    const port = new InProcessLeases();
    // another member claims every miner and keeps renewing
    await port.renew('z', ['z'], 60_000);
    const a = await join(port, 'a');
    await new Promise(r => setTimeout(r, 3 * TTL_MS));
    expect(MINERS.some(id => a.owns(id))).toBe(false);
    // z applies the view with a: it lets a's share go; a takes it only after SETTLE_MS
    const released = await port.renew('z', ['a', 'z'], 60_000);
    const share = MINERS.filter(id => ownerOf(id, ['a', 'z']) === 'a');
    const deadline = Date.now() + 3_000;
    while (!share.every(id => a.owns(id))) {
      if (Date.now() > deadline) throw new Error('a never took its share');
      await new Promise(r => setTimeout(r, 2));
    }
    const took = (await port.round()).nowMs;
    expect(took - released.nowMs).toBeGreaterThanOrEqual(SETTLE_MS);
    expect(MINERS.filter(id => a.owns(id)).sort()).toEqual(share.sort());
  });

  it('polls everything while the store refuses before the first lease, then only its share', async () => {
    const real = new InProcessLeases();
    let down = true;
    const flaky: LeasesPort = {
      renew: (m, v, t) => (down ? Promise.reject(new FleetError('unavailable', 'down')) : real.renew(m, v, t)),
      round: () => real.round(),
      release: m => real.release(m),
    };
    await real.renew('other', ['a', 'other'], 60_000);
    const a = await join(flaky, 'a');
    expect(MINERS.every(id => a.owns(id))).toBe(true);
    down = false;
    const deadline = Date.now() + 3_000;
    while (MINERS.filter(id => a.owns(id)).length !== MINERS.filter(id => ownerOf(id, ['a', 'other']) === 'a').length) {
      if (Date.now() > deadline) throw new Error('a did not settle on its share');
      await new Promise(r => setTimeout(r, 5));
    }
  });

  it('says so when two processes renew under one member id', async () => {
    const port = new InProcessLeases();
    const errors: string[] = [];
    const log = Object.assign(silentLogger(), { error: (_o: unknown, msg: string) => void errors.push(msg) });
    const twins = [0, 1].map(() => new MinerLeases({ leases: port, member: 'host', ttlMs: TTL_MS, settleMs: SETTLE_MS, log, onChange: () => undefined }));
    try {
      for (const t of twins) await t.start();
      const deadline = Date.now() + 3_000;
      while (errors.length === 0 && Date.now() < deadline) await new Promise(r => setTimeout(r, 5));
      expect(errors[0]).toMatch(/another collector process uses COLLECTOR_ID host/);
    } finally {
      for (const t of twins) await t.stop();
    }
  });
});
