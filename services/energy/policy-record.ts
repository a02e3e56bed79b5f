import { z } from 'zod';
import { FleetError } from '../../core/errors.ts';
import { parseInput } from './parse-input.ts';
import { curtailmentPolicySchema, type CurtailmentPolicy } from './policy.ts';
import { priceSourceSchema, type PriceSource } from './price-source.ts';

/**
 * A curtailment policy as stored per tenant: the planner's policy, where its prices come from,
 * whether the executor runs it, how far ahead plans look, and an optional hashprice to value
 * plans with (currency per TH/s per day; profitability owns the live hashprice feed).
 */
export const policyInputSchema = curtailmentPolicySchema.extend({
  id: z
    .string()
    .min(1)
    .max(128)
    .regex(/^[A-Za-z0-9._:-]+$/, { error: 'expected an id of letters, digits, . _ : -' }),
  price_source: priceSourceSchema.default({ kind: 'none' }),
  enabled: z.boolean().default(true),
  horizon_hours: z.number().positive().max(7 * 24).default(48),
  hashprice_per_ths_day: z.number().min(0).nullable().default(null),
});
export type PolicyInput = z.input<typeof policyInputSchema>;

export interface StoredPolicy {
  id: string;
  tenant: string;
  created_ms: number;
  created_by: string;
  updated_ms: number;
  enabled: boolean;
  horizon_hours: number;
  hashprice_per_ths_day: number | null;
  policy: CurtailmentPolicy;
  price_source: PriceSource;
}

/** Parses a policy given for `tenant`; a selector naming another tenant is refused, an absent one is the caller's. */
export function parsePolicyInput(input: unknown, tenant: string): Omit<StoredPolicy, 'created_ms' | 'created_by' | 'updated_ms'> {
  const p = parseInput(policyInputSchema, input, 'curtailment policy');
  if (p.selector.tenant !== undefined && p.selector.tenant !== tenant) {
    throw new FleetError('invalid_argument', `curtailment policy: selector.tenant is "${p.selector.tenant}"; expected your own tenant or none`);
  }
  const { price_source, enabled, horizon_hours, hashprice_per_ths_day, ...rest } = p;
  return {
    id: p.id,
    tenant,
    enabled,
    horizon_hours,
    hashprice_per_ths_day,
    policy: { ...rest, selector: { ...rest.selector, tenant } },
    price_source,
  };
}

/** Where a policy's fetched prices are stored (per tenant: ids are only unique within one). */
export const pricesKey = (p: Pick<StoredPolicy, 'tenant' | 'id'>): string => `${p.tenant}/${p.id}`;
