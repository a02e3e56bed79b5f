import type { CredentialStore } from '../collector/credentials.ts';
import type { Logger } from '../runtime/logger.ts';
import type { MinerClientPool } from '../collector/miner-client-pool.ts';
import type { Store } from '../store/store.ts';
import type { ApiConfig } from '../api/config.ts';

export const ROLES = ['viewer', 'operator', 'admin'] as const;
export type Role = (typeof ROLES)[number];

/** Who is asking: from a verified JWT (REST, MCP over HTTP) or from configuration (stdio MCP). */
export interface Caller {
  sub: string;
  tenant: string;
  roles: Role[];
}

export function hasRole(caller: Caller, role: Role): boolean {
  const rank = (r: Role): number => ROLES.indexOf(r);
  return caller.roles.some(r => rank(r) >= rank(role));
}

/**
 * Connections and shared clients every API service is built from. Services (fleet query,
 * control, jobs, schedules, rollouts, inventory) are plain classes taking this; HTTP routes
 * and MCP tools are thin layers over the services.
 */
export interface ApiInfra {
  config: ApiConfig;
  log: Logger;
  /** the storage ports (store/): services read and write only through these */
  store: Store;
  minerPool: MinerClientPool;
  credentials: CredentialStore;
}
