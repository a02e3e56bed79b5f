// Writes the simulated fleet as an inventory file in the collector's format
// (collector/inventory/schema.ts): JSON, or YAML when the path ends in .yaml/.yml.
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';

import { stringify } from 'yaml';

import type { InventoryFile, InventoryMinerEntry } from '../collector/inventory/schema.ts';

export interface InventoryMinerSource {
  id: string;
  host: string;
  port: number;
  tenant: string;
  site: string;
  rack: string;
  modelName: string;
  modelKey: string;
  /** Name of the credentials entry when the miner does not use the fleet password. */
  credentials?: string;
}

export interface InventoryOptions {
  /** Environment variable that holds the fleet password (default MINER_PASSWORD). */
  passwordEnv?: string;
  /** Extra credential entries (name → env variable) for miners with their own password. */
  extraCredentials?: Record<string, string>;
  defaultPort: number;
}

/** Environment variable name for a miner-specific password, e.g. MINER_PASSWORD_SIM_0003. */
export function minerPasswordEnv(minerId: string, base = 'MINER_PASSWORD'): string {
  return `${base}_${minerId.toUpperCase().replace(/[^A-Z0-9]/g, '_')}`;
}

export function buildInventory(
  miners: readonly InventoryMinerSource[],
  opts: InventoryOptions,
): InventoryFile {
  const passwordEnv = opts.passwordEnv ?? 'MINER_PASSWORD';
  const first = miners[0];
  const credentials: InventoryFile['credentials'] = {
    default: { username: 'root', password_env: passwordEnv },
  };
  for (const [name, env] of Object.entries(opts.extraCredentials ?? {}))
    credentials[name] = { username: 'root', password_env: env };
  return {
    defaults: {
      tenant: first?.tenant ?? 'default',
      site: first?.site ?? 'default',
      credentials: 'default',
      port: opts.defaultPort,
    },
    credentials,
    sites: {},
    miners: miners.map((m): InventoryMinerEntry => ({
      id: m.id,
      address: m.host,
      port: m.port,
      tenant: m.tenant,
      site: m.site,
      ...(m.credentials ? { credentials: m.credentials } : {}),
      labels: { model: m.modelName, model_key: m.modelKey, rack: m.rack, simulated: 'true' },
    })),
    scans: [],
  };
}

export async function writeInventoryFile(file: string, inventory: InventoryFile): Promise<void> {
  const text = /\.ya?ml$/i.test(file) ? stringify(inventory) : `${JSON.stringify(inventory, null, 2)}\n`;
  await mkdir(path.dirname(path.resolve(file)), { recursive: true });
  await writeFile(file, text, 'utf8');
}
