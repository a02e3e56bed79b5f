import { z } from 'zod';
import { JobSummarySchema } from '../control/http-schemas.ts';
import { firmwareUploadSchema, sha256Schema } from './firmware-store.ts';

/** Schemas of /api/v1/firmware (the rollout body is rolloutRequestSchema). */

export const FirmwareImageSchema = z.object({
  sha256: z.string(),
  name: z.string(),
  version: z
    .string()
    .describe('The firmware version the image installs (read from the image, else as declared at upload).'),
  platform: z
    .string()
    .nullable()
    .describe('Platform the image is built for (PLATFORM_…); null when the image does not say.'),
  format: z.enum(['bos-fleet', 'tar']).nullable(),
  version_source: z.enum(['image', 'declared']).nullable(),
  size_bytes: z.number().int(),
  uploaded_ms: z.number(),
  uploaded_by: z.string(),
});

export const FirmwareUploadQuery = firmwareUploadSchema;

export const FirmwareUploadResult = z.object({
  image: FirmwareImageSchema,
  created: z.boolean().describe('false when the same image was already stored'),
});

export const FirmwareListSchema = z.object({ items: z.array(FirmwareImageSchema), total: z.number().int() });

export const FirmwareShaParams = z.strictObject({ sha256: sha256Schema });

const options = z.object({
  canary_size: z.number().int(),
  wave_size: z.number().int(),
  parallelism: z.number().int(),
  hashrate_gate_pct: z.number(),
  gate_timeout_ms: z.number().int(),
  miner_timeout_ms: z.number().int(),
  rollback: z.boolean(),
  discard_settings: z.boolean(),
  poll_interval_ms: z.number().int(),
});

export const RolloutPlanSchema = z.object({
  dry_run: z.boolean(),
  image: FirmwareImageSchema,
  matched: z.number().int(),
  not_found: z.array(z.string()),
  already_current: z.array(z.string()).describe('Miners already on the image version (left alone).'),
  excluded: z
    .array(z.object({ id: z.string(), reason: z.string() }))
    .describe('Miners that cannot take this image (API older than 1.10, another platform); never touched.'),
  miners: z
    .array(
      z.object({
        id: z.string(),
        site: z.string(),
        firmware: z.string().nullable(),
        api_version: z.string().nullable(),
        platform: z.string().nullable(),
        action: z.enum(['upgrade', 'skip', 'exclude']),
        reason: z.string().nullable(),
      }),
    )
    .describe('Every matched miner with what the rollout does with it, and why.'),
  waves: z.array(
    z.object({
      index: z.number().int(),
      kind: z.enum(['canary', 'wave']),
      miners: z.array(z.object({ id: z.string(), site: z.string(), firmware: z.string().nullable() })),
    }),
  ),
  options,
  job: JobSummarySchema.nullable().describe('The rollout job; follow it at /api/v1/jobs/{id}/events.'),
});
