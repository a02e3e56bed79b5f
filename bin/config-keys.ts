import { apiConfigSchema } from '../api/config.ts';
import type { RawConfig } from '../runtime/config-loader.ts';
import { collectorConfigSchema } from '../collector/config.ts';
import { mcpConfigSchema } from '../mcp/config.ts';
import { nearest } from './nearest.ts';

// A mistyped key (API_TRUST_PROXI) is otherwise silently ignored and its default applies.
// Compose hands one environment to every service, so a key any of them reads is known.

const KNOWN = new Set([
  'BOS_FLEET_CONFIG',
  ...[collectorConfigSchema, apiConfigSchema, mcpConfigSchema].flatMap(s => Object.keys(s.shape)),
]);
/** Inventory credentials name their password variables (password_env); MINER_PASSWORD… is the convention. */
const PASSWORD_ENV = /^MINER_PASSWORD(_[A-Z0-9_]+)?$/;
/** prefixes of this project's keys: other software's variables (PATH, NODE_OPTIONS…) are not ours to judge */
const OURS = /^(API|AUTH|BOSFLEET|BOS_FLEET|COLLECTOR|FIRMWARE|INFLUX|JOBS|MCP|MINER|RATE_LIMIT|REDIS)_/;

/** One line per key that looks like ours but that nothing reads, with the nearest known key. */
export function unknownConfigWarnings(raw: RawConfig): string[] {
  const out: string[] = [];
  for (const key of Object.keys(raw).sort()) {
    if (KNOWN.has(key) || !OURS.test(key) || PASSWORD_ENV.test(key)) continue;
    const best = nearest(key, KNOWN);
    out.push(
      `unknown configuration key ${key} is ignored${best ? `; did you mean ${best}?` : ''} (see .env.example)`,
    );
  }
  return out;
}
