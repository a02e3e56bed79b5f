import { z } from 'zod';
import { HEALTH_STATUSES } from '../../core/samples.ts';
import { minerIdSchema, scopeNameSchema } from '../../collector/inventory/schema.ts';

/** Response schemas of /api/v1/inventory (bodies: inventory-service.ts input schemas). */

export const InventoryMinerSchema = z.object({
  id: z.string(),
  address: z.string(),
  port: z.number().int().nullable(),
  tenant: z.string(),
  site: z.string().nullable(),
  credentials: z.string().nullable().describe('Name of the credential entry (never the secret).'),
  labels: z.record(z.string(), z.string()),
  source: z.enum(['api', 'file', 'scan']),
  state: z
    .enum(['active', 'pending', 'quarantined'])
    .describe(
      'pending: added through the API, not yet picked up by the collector; quarantined: neither polled nor controlled, see reason.',
    ),
  reason: z.string().nullable().describe('Why a quarantined entry is held back; null otherwise.'),
  status: z.enum(HEALTH_STATUSES).nullable(),
});

export const InventoryListSchema = z.object({
  items: z.array(InventoryMinerSchema),
  total: z.number().int(),
});

export const CredentialSchema = z.object({
  name: z.string(),
  username: z.string(),
  scope: z
    .enum(['tenant', 'global'])
    .describe(
      'tenant: managed here; global: from the inventory file or MINER_DEFAULT_*, shared with your tenant by the operator (read-only).',
    ),
});

export const CredentialListSchema = z.object({
  items: z.array(CredentialSchema),
  total: z.number().int(),
});

export const ScanRequestSchema = z.object({
  type: z.literal('scan'),
  id: z.string(),
  cidr: z.string(),
  tenant: z.string(),
  site: z.string(),
  port: z.number().int().optional(),
  credentials: z.string().optional(),
  labels: z.record(z.string(), z.string()),
  requested_by: z.string(),
  requested_ms: z.number(),
});

export const InventoryIdParams = z.strictObject({ id: minerIdSchema });
export const CredentialNameParams = z.strictObject({ name: scopeNameSchema });
export const Removed = z.object({ removed: z.literal(true) });
