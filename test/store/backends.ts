import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { inject } from 'vitest';
import { openEmbeddedStore, type EmbeddedStore } from '../../store/embedded/index.ts';
import { openInfluxRedisStore, type InfluxRedisStore } from '../../store/influx-redis/index.ts';
import type { Store, StoreBackend } from '../../store/store.ts';
import { waitForRedis } from '../../store/influx-redis/redis-connection.ts';

/**
 * Both storage backends for contract and integration suites: `describe.each(BACKENDS)` and
 * `openTestStore(backend)`. The farm backend runs on the real InfluxDB and Redis of
 * test/setup/services.ts, isolated by a fresh Redis prefix and InfluxDB database; the embedded one
 * in a fresh temp data folder. `reopen()` closes and opens the same data (a restart).
 */
export const BACKENDS: readonly StoreBackend[] = ['embedded', 'influx-redis'];

export type TestStore = (EmbeddedStore | InfluxRedisStore) & {
  /** the same data opened again after close() (a restart); the previous handle must be closed */
  reopen(): Promise<TestStore>;
  /** close and delete what this test created */
  destroy(): Promise<void>;
};

export interface TestStoreOptions {
  /** reuse this data folder / prefix+db instead of a fresh one */
  scope?: string;
}

export async function openTestStore(backend: StoreBackend, opts: TestStoreOptions = {}): Promise<TestStore> {
  const scope = opts.scope ?? `t${randomUUID().replaceAll('-', '').slice(0, 12)}`;
  if (backend === 'embedded') {
    const dataDir = path.join(os.tmpdir(), 'bosfleet-store-tests', scope);
    const store = openEmbeddedStore({ dataDir, checkpointIntervalMs: 0 });
    return Object.assign(store, {
      reopen: () => openTestStore(backend, { scope }),
      async destroy() {
        await store.close();
        fs.rmSync(dataDir, { recursive: true, force: true });
      },
    });
  }
  const firmwareDir = path.join(os.tmpdir(), 'bosfleet-store-tests', scope, 'firmware');
  const store = openInfluxRedisStore({
    redisUrl: inject('redisUrl'),
    redisPrefix: scope,
    firmwareDir,
    influx: { url: inject('influxUrl'), db: scope, flavour: '1', auth: 'none', timeoutMs: 30_000 },
    name: `test-${scope}`,
  });
  // The farm client refuses commands until connected (no offline queue): wait, as the services do at start.
  if (!(await waitForRedis(store.redis, 10_000))) throw new Error(`test Redis ${inject('redisUrl')} not reachable`);
  await store.influx.ensureDatabase();
  return Object.assign(store, {
    reopen: () => openTestStore(backend, { scope }),
    async destroy() {
      const keys = await store.redis.keys(`${scope}:*`);
      if (keys.length) await store.redis.del(...keys);
      await store.influx.query(`DROP DATABASE "${scope}"`).catch(() => undefined);
      await store.close();
      fs.rmSync(path.dirname(firmwareDir), { recursive: true, force: true });
    },
  });
}

/** The farm store's connections, for tests that inspect Redis or InfluxDB directly. */
export function farmOf(store: Store): InfluxRedisStore {
  if (store.backend !== 'influx-redis') throw new Error(`expected the influx-redis store, got ${store.backend}`);
  return store as InfluxRedisStore;
}
