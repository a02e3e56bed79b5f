import { CredentialStore } from '../collector/credentials.ts';
import type { Logger } from '../runtime/logger.ts';
import { MinerClientPool } from '../collector/miner-client-pool.ts';
import { openStore } from '../store/open-store.ts';
import type { Store } from '../store/store.ts';
import { SecretBox } from '../collector/secret-box.ts';
import type { ApiConfig } from './config.ts';
import type { ApiInfra } from '../services/context.ts';

export interface InfraHandle {
  infra: ApiInfra;
  /** close miner channels, and the store when this handle opened it */
  close(): Promise<void>;
}

/**
 * The connections and shared clients every API-side process runs on (the API server, stdio MCP).
 * `store` is the one the caller already holds (one process running the collector and the API on
 * one embedded store); without it the configured store is opened here and closed by close().
 */
export function createInfra(config: ApiConfig, log: Logger, name: string, opts: { store?: Store; rateLimitConnection?: boolean } = {}): InfraHandle {
  const owned = opts.store === undefined;
  const s = opts.store ?? openStore(config, { log, name, rateLimitConnection: opts.rateLimitConnection ?? false, firmwareDir: config.FIRMWARE_DIR });
  const credentials = new CredentialStore({
    defaultUsername: config.MINER_DEFAULT_USERNAME,
    ...(config.MINER_DEFAULT_PASSWORD ? { defaultPassword: config.MINER_DEFAULT_PASSWORD } : {}),
    inventory: s.inventory,
    ...(config.BOSFLEET_SECRET_KEY ? { box: new SecretBox(config.BOSFLEET_SECRET_KEY) } : {}),
  });
  const minerPool = new MinerClientPool(credentials, { timeoutMs: config.MINER_RPC_TIMEOUT_MS });
  return {
    infra: { config, log, store: s, minerPool, credentials },
    async close() {
      minerPool.closeAll();
      if (owned) await s.close();
    },
  };
}
