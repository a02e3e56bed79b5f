import { FleetError } from '../core/errors.ts';

/** Member ids travel joined by newlines in lease records: anything else printable is fine. */
const MEMBER_ID = /^[^\s,]{1,128}$/;

export function checkLeaseMember(member: string): void {
  if (!MEMBER_ID.test(member)) throw new FleetError('invalid_argument', `lease member "${member}" rejected: expected 1-128 characters without spaces or commas (a COLLECTOR_ID)`);
}

export function checkLeaseTtl(ttlMs: number): void {
  if (!Number.isInteger(ttlMs) || ttlMs < 10) throw new FleetError('invalid_argument', `lease ttl ${ttlMs} rejected: expected an integer of at least 10 ms`);
}

/** the stored form of a view: ids sorted, joined by commas ('' = nothing held) */
export function encodeView(view: readonly string[]): string {
  for (const m of view) checkLeaseMember(m);
  return [...new Set(view)].sort().join(',');
}

export function decodeView(text: string): string[] {
  return text === '' ? [] : text.split(',');
}
