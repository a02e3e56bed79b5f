import type { Logger } from '../../runtime/logger.ts';
import type { Store } from '../store.ts';
import { EmbeddedDatabase } from './database.ts';
import { EmbeddedSeries, type EmbeddedSeriesOptions } from './series.ts';

export interface EmbeddedStoreOptions {
  dataDir: string;
  log?: Logger | undefined;
  checkpointIntervalMs?: number;
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
  const series = new EmbeddedSeries(database, { ...opts.series, log: opts.log });
  return {
    backend: 'embedded',
    location: database.file,
    database,
    series,
    async close() {
      await series.close();
      database.close();
    },
  };
}
