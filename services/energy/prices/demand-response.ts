import { z } from 'zod';
import { scopeNameSchema } from '../../../collector/inventory/schema.ts';
import { parseInput } from '../parse-input.ts';

/**
 * A demand-response signal, given by hand or through the API: "curtail site X to 800 kW for
 * 30 minutes" or "reduce site X by 20 % for 1 hour". JSON:
 *
 * ```json
 * { "id": "ercot-2026-12-07-1", "site": "tx-1", "cap_kw": 800, "duration_minutes": 30 }
 * { "id": "grid-call-7", "site": "tx-1", "reduce_percent": 20, "duration_minutes": 60,
 *   "start": "2026-12-07T17:00:00Z" }
 * ```
 *
 * Exactly one of cap_kw and reduce_percent. `start` (ISO 8601 with offset, or epoch ms) defaults
 * to when the signal is received. reduce_percent is of the site's power when the signal starts.
 */

export const demandResponseInputSchema = z
  .strictObject({
    id: z
      .string()
      .min(1)
      .max(128)
      .regex(/^[A-Za-z0-9._:-]+$/, { error: 'expected an id of letters, digits, . _ : -' }),
    site: scopeNameSchema,
    cap_kw: z.number({ error: 'expected cap_kw as a number of kW' }).min(0, { error: 'expected cap_kw >= 0' }).optional(),
    reduce_percent: z
      .number({ error: 'expected reduce_percent as a number' })
      .gt(0, { error: 'expected reduce_percent above 0' })
      .max(100, { error: 'expected reduce_percent at most 100' })
      .optional(),
    duration_minutes: z
      .number({ error: 'expected duration_minutes as a number' })
      .positive({ error: 'expected duration_minutes above 0' })
      .max(7 * 24 * 60, { error: 'expected duration_minutes at most a week (10080)' }),
    start: z
      .union([z.iso.datetime({ offset: true, error: 'expected start as ISO 8601 with an offset or Z' }), z.number().int().nonnegative()])
      .optional(),
  })
  .refine(s => (s.cap_kw === undefined) !== (s.reduce_percent === undefined), {
    error: 'expected exactly one of cap_kw ("curtail to X kW") and reduce_percent ("reduce by X %")',
  });

export type DemandResponseTarget = { kind: 'cap_kw'; cap_kw: number } | { kind: 'reduce_percent'; percent: number };

export interface DemandResponseSignal {
  id: string;
  site: string;
  target: DemandResponseTarget;
  start_ms: number;
  end_ms: number;
}

export function parseDemandResponseSignal(input: unknown, received_ms: number): DemandResponseSignal {
  const s = parseInput(demandResponseInputSchema, input, 'demand-response signal');
  const start_ms = s.start === undefined ? received_ms : typeof s.start === 'number' ? s.start : Date.parse(s.start);
  return {
    id: s.id,
    site: s.site,
    target: s.cap_kw !== undefined ? { kind: 'cap_kw', cap_kw: s.cap_kw } : { kind: 'reduce_percent', percent: s.reduce_percent! },
    start_ms,
    end_ms: start_ms + Math.round(s.duration_minutes * 60_000),
  };
}
