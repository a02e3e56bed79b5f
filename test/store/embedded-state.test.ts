import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openEmbeddedStore, type EmbeddedStore } from '../../store/embedded/index.ts';
import { EmbeddedState } from '../../store/embedded/embedded-state.ts';
import type { WindowStatWrite } from '../../store/ports/state.ts';

// What the contract suite cannot see: expired window statistics leave the SQLite file, not only
// the answers (Redis deletes an expired hash; the embedded store must not grow without bound).

const dirs: string[] = [];
const open = (dir: string): EmbeddedStore => openEmbeddedStore({ dataDir: dir, checkpointIntervalMs: 0 });
const rows = (s: EmbeddedStore): number => (s.database.db.prepare('SELECT COUNT(*) AS n FROM window_stats').get() as { n: number }).n;
const stat = (startMs: number, field: string, expireAtMs: number): WindowStatWrite => ({
  tenant: 'acme',
  res: '5m',
  startMs,
  field,
  value: 'v',
  expireAtMs,
});

afterEach(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

describe('embedded window statistics retention', () => {
  it('deletes expired rows on the next write after the sweep period, and when opened', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bosfleet-state-'));
    dirs.push(dir);
    const store = open(dir);
    let now = Date.now() - 120_000;
    const state = new EmbeddedState(store.database, { now: () => now, sweepEveryMs: 60_000 });
    await state.putWindowStats([stat(0, 'a|r', now + 1_000), stat(300_000, 'b|r', now + 3_600_000)]);
    now += 2_000;
    await state.putWindowStats([stat(600_000, 'c|r', now + 3_600_000)]);
    expect(rows(store)).toBe(3); // within the sweep period: hidden from reads, not yet deleted
    expect(await state.windowBucketSizes('acme', [{ res: '5m', startMs: 0 }])).toEqual([0]);
    now += 60_000;
    await state.putWindowStats([stat(600_000, 'c|r', now + 3_600_000)]);
    expect(rows(store)).toBe(2);
    // one more expires while the process is down: gone when the data folder is opened again
    await state.putWindowStats([stat(900_000, 'd|r', Date.now() - 1)]);
    expect(rows(store)).toBe(3);
    await store.close();
    const again = open(dir);
    expect(rows(again)).toBe(2);
    await again.close();
  });
});
