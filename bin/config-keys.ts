import { apiConfigSchema } from '../api/config.ts';
import type { RawConfig } from '../collector/config-loader.ts';
import { collectorConfigSchema } from '../collector/config.ts';
import { mcpConfigSchema } from '../mcp/config.ts';

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

function distance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++)
      cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    prev = cur;
  }
  return prev[b.length]!;
}

/** One line per key that looks like ours but that nothing reads, with the nearest known key. */
export function unknownConfigWarnings(raw: RawConfig): string[] {
  const out: string[] = [];
  for (const key of Object.keys(raw).sort()) {
    if (KNOWN.has(key) || !OURS.test(key) || PASSWORD_ENV.test(key)) continue;
    let best: string | undefined;
    let bestD = 3;
    for (const k of KNOWN) {
      const d = distance(key, k);
      if (d < bestD) [best, bestD] = [k, d];
    }
    out.push(
      `unknown configuration key ${key} is ignored${best ? `; did you mean ${best}?` : ''} (see .env.example)`,
    );
  }
  return out;
}
