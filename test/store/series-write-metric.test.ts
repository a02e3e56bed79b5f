import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, expect, test } from 'vitest';
import { createCollectorMetrics } from '../../collector/metrics.ts';
import { openEmbeddedStore, type EmbeddedStore } from '../../store/embedded/index.ts';

let store: EmbeddedStore | null = null;
let dir = '';
afterEach(async () => {
  await store?.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

test('each embedded series flush is one observation of bosfleet_store_write_duration_seconds{kind="series"}', async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bosfleet-write-metric-'));
  store = openEmbeddedStore({ dataDir: dir, checkpointIntervalMs: 0 });
  const metrics = createCollectorMetrics(undefined, { processMetrics: false });
  const writer = await store.series.openWriter({ metrics, flushIntervalMs: 0 });
  const point = (t: number) => ({ measurement: 'miner_1h', tags: { miner: 'm1', tenant: 't', site: 's', model: 'x' }, fields: { hashrate_ghs: 1, up: 1, samples: 1 }, time_ms: t });
  writer.write([point(1_000), point(2_000)]);
  await writer.flush();
  writer.write([point(3_000)]);
  await writer.flush();
  await writer.flush(); // nothing pending: no transaction, no observation
  const text = await metrics.registry.getSingleMetricAsString('bosfleet_store_write_duration_seconds');
  expect(text).toMatch(/bosfleet_store_write_duration_seconds_count\{kind="series"\} 2$/m);
  await writer.close();
});
