// Hashrate windows are true time-averages over the miner's history and power follows a lower
// target within seconds, as on a real miner. Drives a VirtualMiner with explicit timestamps.
import { describe, expect, it } from 'vitest';
import { makeIdentity } from '../../simulator/identity.ts';
import { MODELS } from '../../simulator/models.ts';
import { minerTruth } from '../../simulator/truth.ts';
import { VirtualMiner, WINDOW_FIELDS } from '../../simulator/virtual-miner.ts';
import { WorkHistory } from '../../simulator/work-history.ts';

const T0 = Date.UTC(2026, 11, 6, 12, 0, 0);
function makeMiner(): VirtualMiner {
  const spec = MODELS.s19jpro;
  return new VirtualMiner({
    placement: { id: 't-0', index: 0, host: '127.9.0.1', port: 50051, tenant: 't', site: 's', rack: 'r01', siteAmbientC: 25 },
    spec,
    identity: makeIdentity(7, 0, spec),
    seed: 7,
    password: 'root',
    timings: { retuneMs: 8_000, warmupMs: 5_000, thermalTauMs: 45_000, fanTauMs: 8_000, tokenTimeoutS: 3600, quickRamping: { upS: 6, downS: 3 } },
    nowMs: T0,
  });
}
const w = (name: (typeof WINDOW_FIELDS)[number]): number => WINDOW_FIELDS.indexOf(name);

describe('hashrate windows', () => {
  it('after a pause, last_5s is 0 once the 5 s since hashing stopped have passed', () => {
    const m = makeMiner();
    // polled every second, as the collector and tests do
    for (let t = T0; t <= T0 + 60_000; t += 1_000) m.view(t);
    const before = m.trueView(T0 + 60_000).realGhs[w('last_5s')]!;
    expect(before).toBeGreaterThan(50_000);
    m.pause(T0 + 60_000);
    for (let t = T0 + 61_000; t <= T0 + 68_000; t += 1_000) m.view(t);
    const v = m.trueView(T0 + 68_000); // ramp down 3 s, then 5 s at 0
    expect(v.realGhs[w('last_5s')]).toBeLessThan(before * 0.001);
    // the 1-minute window is the mean over the minute: 60 - 8 s of work, ramp counted half
    expect(v.realGhs[w('last_1m')]! / before).toBeCloseTo((52 + 1.5) / 60, 2);
  });

  it('a window is the average of the instantaneous hashrate over exactly its length', () => {
    const m = makeMiner();
    const instant: number[] = [];
    for (let t = T0; t <= T0 + 120_000; t += 1_000) {
      if (t === T0 + 60_000) m.addFault(t, { kind: 'hashboard_failure', board_index: 1 });
      m.view(t);
      instant.push(m.trueView(t).instantGhs);
    }
    const v = m.trueView(T0 + 120_000);
    // trapezoid mean of the instantaneous rate over the last 30 s and 5 min windows
    const mean = (secs: number): number => {
      const xs = instant.slice(-secs - 1);
      let s = 0;
      for (let i = 1; i < xs.length; i++) s += (xs[i - 1]! + xs[i]!) / 2;
      return s / secs;
    };
    expect(v.realGhs[w('last_30s')]! / mean(30)).toBeCloseTo(1, 3);
    expect(v.realGhs[w('last_1m')]! / mean(60)).toBeCloseTo(1, 3);
  });
});

describe('power target', () => {
  it('power comes down to a lower target within a few seconds', () => {
    const m = makeMiner();
    m.view(T0 + 1_000);
    const before = minerTruth(m, T0 + 1_000);
    m.setPowerTarget(T0 + 1_000, 2_000, true);
    const after = minerTruth(m, T0 + 4_000);
    expect(before.power_w).toBeGreaterThan(2_800);
    expect(after.power_w).toBeLessThan(2_100);
  });
});

describe('work history', () => {
  it('stays small over a day of 1 s readings and keeps every window exact for a steady rate', () => {
    const h = new WorkHistory();
    h.reset(0);
    let work = 0;
    for (let t = 1_000; t <= 25 * 3_600_000; t += 1_000) h.record(t, (work += 100));
    const now = 25 * 3_600_000;
    expect(h.size).toBeLessThan(300);
    for (const win of [5_000, 60_000, 3_600_000, 86_400_000]) expect(h.meanGhs(now, win)).toBeCloseTo(100, 6);
  });
});
