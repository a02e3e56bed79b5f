import type { Logger } from '../../runtime/logger.ts';
import type { Store } from '../store.ts';
import { memoryCache } from './cache.ts';
import { EmbeddedDatabase } from './database.ts';
import { embeddedFirmware } from './firmware.ts';
import { embeddedSchedules } from './schedules.ts';
import { embeddedEnergy } from './energy.ts';
import { SqliteJobs } from './jobs.ts';
import { SqliteInventory } from './inventory.ts';
import { InProcessPubSub } from './pubsub.ts';
import { EmbeddedState } from './embedded-state.ts';
import { EmbeddedEvents } from './events.ts';
import { EmbeddedSessions } from './sessions.ts';
import { InProcessWindowCounter } from './limits.ts';
import { timedPing } from '../ping.ts';
import { EmbeddedSeries, type EmbeddedSeriesOptions } from './series.ts';
import { InProcessLeases } from './leases.ts';

export interface EmbeddedStoreOptions {
  dataDir: string;
  log?: Logger | undefined;
  checkpointIntervalMs?: number;
  /** how long events and audit entries are kept (by their time); @defaultValue 90 days */
  eventsRetentionMs?: number;
  /** series retention and its job's period */
  series?: Omit<EmbeddedSeriesOptions, 'log'>;
}

export interface EmbeddedStore extends Store {
  readonly backend: 'embedded';
  readonly database: EmbeddedDatabase;
}

/** Opens (and migrates) the data folder; refuses with one clear line when another process holds it. */
export function openEmbeddedStore(opts: EmbeddedStoreOptions): EmbeddedStore {
  const database = EmbeddedDatabase.open(opts);
  const jobs = new SqliteJobs(database, opts.log);
  const state = new EmbeddedState(database);
  const events = new EmbeddedEvents(database, {
    ...(opts.eventsRetentionMs !== undefined ? { retentionMs: opts.eventsRetentionMs } : {}),
  });
  const series = new EmbeddedSeries(database, { ...opts.series, log: opts.log });
  return {
    backend: 'embedded',
    location: database.file,
    database,
    schedules: embeddedSchedules(database),
    energy: embeddedEnergy(database),
    firmware: embeddedFirmware(database, opts.log),
    jobs,
    cache: memoryCache(),
    inventory: new SqliteInventory(database),
    pubsub: new InProcessPubSub(),
    state,
    events,
    sessions: new EmbeddedSessions(database),
    limits: new InProcessWindowCounter(),
    async ping(timeoutMs) {
      return [await timedPing('sqlite', async () => database.isOpen && database.db.prepare('SELECT 1 AS one').get()?.one === 1, timeoutMs)];
    },
    series,
    leases: new InProcessLeases(),
    async close() {
      await jobs.close();
      await series.close();
      database.close();
    },
  };
}
