import { z } from 'zod';

/**
 * Inventory file format (YAML or JSON). Example:
 *
 *   defaults: { tenant: acme, site: dc1, credentials: default, port: 50051 }
 *   credentials:
 *     default: { username: root, password_env: MINER_PASSWORD }
 *     site-b:  { username: root, password_file: /run/secrets/site-b }
 *   sites:
 *     dc2: { tenant: acme, poll_interval_ms: 30000, credentials: site-b }
 *   miners:
 *     - { id: s19-01, address: 10.0.0.11, site: dc1, labels: { rack: r1 } }
 *   scans:
 *     - { cidr: 10.0.1.0/24, site: dc2, every_ms: 3600000 }
 *
 * Passwords never appear in the file: only the env variable or secrets file that holds them.
 */

const idPattern = /^[A-Za-z0-9._:-]{1,128}$/;
const namePattern = /^[A-Za-z0-9._-]{1,64}$/;

export const minerIdSchema = z
  .string()
  .regex(idPattern, { error: 'expected 1-128 characters of letters, digits, ".", "_", ":" or "-"' });
export const scopeNameSchema = z
  .string()
  .regex(namePattern, { error: 'expected 1-64 characters of letters, digits, ".", "_" or "-"' });

export const credentialRefSchema = z
  .strictObject({
    username: z.string().min(1).default('root'),
    password_env: z.string().regex(/^[A-Z_][A-Z0-9_]*$/, { error: 'expected an environment variable name' }).optional(),
    password_file: z.string().min(1).optional(),
  })
  .refine(c => !(c.password_env && c.password_file), { error: 'give password_env or password_file, not both' });

export const inventoryMinerSchema = z.strictObject({
  id: minerIdSchema.optional(),
  address: z.string().min(1, { error: 'expected a host name or IP address' }),
  port: z.number().int().min(1).max(65_535).optional(),
  tenant: scopeNameSchema.optional(),
  site: scopeNameSchema.optional(),
  credentials: z.string().min(1).optional(),
  labels: z.record(z.string(), z.string()).default({}),
  /** when an API entry was first added: the earlier of two entries for one device keeps it */
  created_ms: z.number().int().nonnegative().optional(),
});

export const inventoryScanSchema = z.strictObject({
  cidr: z.string().regex(/^\d{1,3}(\.\d{1,3}){3}\/\d{1,2}$/, { error: 'expected an IPv4 CIDR such as 10.0.0.0/24' }),
  port: z.number().int().min(1).max(65_535).optional(),
  tenant: scopeNameSchema.optional(),
  site: scopeNameSchema.optional(),
  credentials: z.string().min(1).optional(),
  every_ms: z.number().int().min(10_000).optional(),
  labels: z.record(z.string(), z.string()).default({}),
});

export const inventorySiteSchema = z.strictObject({
  tenant: scopeNameSchema.optional(),
  credentials: z.string().min(1).optional(),
  poll_interval_ms: z.number().int().min(1_000).max(3_600_000).optional(),
});

export const inventoryFileSchema = z.strictObject({
  defaults: z
    .strictObject({
      tenant: scopeNameSchema.default('default'),
      site: scopeNameSchema.default('default'),
      credentials: z.string().min(1).default('default'),
      port: z.number().int().min(1).max(65_535).default(50_051),
    })
    .default({ tenant: 'default', site: 'default', credentials: 'default', port: 50_051 }),
  credentials: z.record(z.string(), credentialRefSchema).default({}),
  sites: z.record(z.string(), inventorySiteSchema).default({}),
  // Entries are validated one by one by the loader so one bad entry does not sink the rest.
  miners: z.array(z.unknown()).default([]),
  scans: z.array(z.unknown()).default([]),
});

export type InventoryMinerEntry = z.output<typeof inventoryMinerSchema>;
export type InventoryScanEntry = z.output<typeof inventoryScanSchema>;
export type InventoryFile = z.output<typeof inventoryFileSchema>;
export type CredentialRef = z.output<typeof credentialRefSchema>;

/** A miner the collector should poll, fully resolved. */
export interface InventoryMiner {
  id: string;
  host: string;
  port: number;
  tenant: string;
  site: string;
  /** name of the credential entry to use */
  credentials: string;
  labels: Record<string, string>;
  source: 'file' | 'scan' | 'api';
  poll_interval_ms?: number;
  /** API entries: when first added (the earlier of two entries for one endpoint keeps it) */
  created_ms?: number;
}
