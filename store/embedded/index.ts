import type { Logger } from '../../runtime/logger.ts';
import type { Store } from '../store.ts';
import { EmbeddedDatabase } from './database.ts';
import { EmbeddedState } from './embedded-state.ts';

export interface EmbeddedStoreOptions {
  dataDir: string;
  log?: Logger | undefined;
  checkpointIntervalMs?: number;
}

export interface EmbeddedStore extends Store {
  readonly backend: 'embedded';
  readonly database: EmbeddedDatabase;
}

/** Opens (and migrates) the data folder; refuses with one clear line when another process holds it. */
export function openEmbeddedStore(opts: EmbeddedStoreOptions): EmbeddedStore {
  const database = EmbeddedDatabase.open(opts);
  const state = new EmbeddedState(database);
  return {
    backend: 'embedded',
    location: database.file,
    database,
    state,
    async close() {
      database.close();
    },
  };
}
