import type { z } from 'zod';
import { FleetError, type FleetErrorCode } from '../../core/errors.ts';

/**
 * Parses outside input with a zod schema; on failure throws a FleetError whose message names
 * every wrong field and what was expected there, e.g.
 * `tariff: periods.0.from_hour: expected a whole hour 0..23`.
 */
export function parseInput<S extends z.ZodType>(
  schema: S,
  input: unknown,
  what: string,
  code: FleetErrorCode = 'invalid_argument',
): z.output<S> {
  const parsed = schema.safeParse(input);
  if (parsed.success) return parsed.data;
  const issues = parsed.error.issues.map(i => (i.path.length > 0 ? `${i.path.join('.')}: ${i.message}` : i.message));
  throw new FleetError(code, `${what}: ${issues.join('; ')}`, { details: { issues } });
}
