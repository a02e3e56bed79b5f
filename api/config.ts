import { isIP } from 'node:net';
import { z } from 'zod';
import { ConfigError, cfg, parseConfig, readRawConfig } from '../runtime/config-loader.ts';
import { influxConfigShape, redisConfigShape, storeConfigShape } from '../collector/config.ts';
import { sharedCredentialsSchema } from '../collector/inventory/credential-policy.ts';
import { profitabilityConfigShape } from '../services/energy/profitability-config.ts';

export const apiConfigSchema = z.object({
  LOG_LEVEL: cfg.oneOf(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const, 'info'),
  ...storeConfigShape,
  ...influxConfigShape,
  ...redisConfigShape,
  API_HOST: z.string().default('127.0.0.1'),
  API_PORT: cfg.int(8_080, 0, 65_535),
  /** Public base URL (for OpenAPI servers, MCP resource metadata). */
  API_PUBLIC_URL: cfg.url('http://127.0.0.1:8080'),
  /**
   * Which X-Forwarded-For to believe for the client address (rate limits of unauthenticated
   * callers, logs): false, true (any hop), a hop count, or the proxies' addresses / CIDRs.
   */
  API_TRUST_PROXY: z.string().default('false').transform(parseTrustProxy),
  /** JWT verification: a JWKS URL or a PEM public key (inline or file). One of them is required unless AUTH_MODE=none. */
  AUTH_MODE: cfg.oneOf(['jwt', 'none'] as const, 'jwt'),
  AUTH_JWKS_URL: z.url({ error: 'expected the https URL of a JWKS document' }).optional(),
  AUTH_PUBLIC_KEY: cfg.optionalStr(),
  AUTH_PUBLIC_KEY_FILE: cfg.optionalStr(),
  AUTH_ISSUER: z.string().min(1).default('bos-fleet'),
  AUTH_AUDIENCE: z.string().min(1).default('bos-fleet'),
  AUTH_ALGORITHMS: cfg.list('RS256,ES256'),
  /** Longest lifetime (exp - iat) a token may have; every token must carry exp. Default 366 days, the longest `bos-fleet token` mints. */
  AUTH_TOKEN_MAX_LIFETIME_H: cfg.int(366 * 24, 1, 10 * 366 * 24),
  /** With AUTH_MODE=none every request acts as this tenant/role (single-user home setups on loopback only). */
  AUTH_NONE_TENANT: z.string().default('default'),
  AUTH_NONE_ROLE: cfg.oneOf(['viewer', 'operator', 'admin'] as const, 'viewer'),
  /** AUTH_MODE=none is refused on an address other than loopback unless this says the exposure is intended. */
  AUTH_NONE_ALLOW_REMOTE: cfg.bool(false),
  RATE_LIMIT_MAX: cfg.int(600, 1, 1_000_000),
  RATE_LIMIT_CONTROL_MAX: cfg.int(60, 1, 1_000_000),
  RATE_LIMIT_AUTH_FAILURES_MAX: cfg.int(20, 1, 1_000_000),
  RATE_LIMIT_WINDOW_MS: cfg.int(60_000, 1_000, 3_600_000),
  MINER_RPC_TIMEOUT_MS: cfg.int(5_000, 100, 120_000),
  /** The collector's inventory file, read here only for its `credentials` section (which password goes with which miner). */
  COLLECTOR_INVENTORY_FILE: cfg.optionalStr(),
  MINER_DEFAULT_USERNAME: z.string().min(1).default('root'),
  MINER_DEFAULT_PASSWORD: cfg.optionalStr(),
  /** Instance-wide credentials a tenant's own (API-added) miners may use: name@tenant pairs, * = every tenant. */
  MINER_SHARED_CREDENTIALS: sharedCredentialsSchema,
  BOSFLEET_SECRET_KEY: z
    .string()
    .refine(v => Buffer.from(v, 'base64').length === 32, { error: 'expected 32 random bytes in base64 (openssl rand -base64 32)' })
    .optional(),
  /** Without BOSFLEET_SECRET_KEY, the key this instance generates once (first job with a secret) and keeps here, mode 0600. */
  BOSFLEET_SECRET_KEY_FILE: z.string().min(1).default('./.data/secret.key'),
  /** Decoded per-miner window statistics kept in memory for analytics (about 1.3 MB per 10,000 miners and bucket). */
  API_WINDOW_CACHE_MB: cfg.int(256, 1, 65_536),
  /** Hours of window statistics read ahead at start and every 5 minutes, so first analytical answers are fast; 0 = off. */
  API_WINDOW_PRELOAD_HOURS: cfg.int(48, 0, 92 * 24),
  JOBS_CONCURRENCY: cfg.int(32, 1, 1_000),
  FIRMWARE_DIR: z.string().default('./.data/firmware'),
  FIRMWARE_MINER_TIMEOUT_MS: cfg.int(45 * 60_000, 1_000, 24 * 3_600_000),
  MCP_ENABLED: cfg.bool(true),
  MCP_ALLOWED_HOSTS: cfg.list('127.0.0.1,localhost'),
  MCP_ALLOWED_ORIGINS: cfg.list(''),
  /** /mcp requests of one tenant running at once in this process; more wait (MCP_TENANT_QUEUE), then 429. */
  MCP_TENANT_CONCURRENCY: cfg.int(8, 1, 1_000),
  MCP_TENANT_QUEUE: cfg.int(32, 0, 10_000),
  /** Profitability prices (HASHPRICE_SOURCE, ENERGY_PRICE_SOURCE, …): services/energy/profitability-config.ts. */
  ...profitabilityConfigShape,
});

export type ApiConfig = z.output<typeof apiConfigSchema>;

const PROXY_RANGES = ['loopback', 'linklocal', 'uniquelocal'];

/** fastify's trustProxy from API_TRUST_PROXY, or an issue that says what is accepted. */
function parseTrustProxy(raw: string, ctx: z.RefinementCtx): boolean | number | string[] {
  const v = raw.trim();
  if (v === '' || v === 'false') return false;
  if (v === 'true') return true;
  if (/^\d+$/.test(v) && Number(v) >= 1 && Number(v) <= 100) return Number(v);
  const items = v.split(',').map(s => s.trim()).filter(Boolean);
  const bad = items.find(item => {
    if (PROXY_RANGES.includes(item)) return false;
    const [addr, prefix, extra] = item.split('/');
    if (extra !== undefined || !addr) return true;
    const family = isIP(addr);
    if (family === 0) return true;
    if (prefix === undefined) return false;
    return !/^\d+$/.test(prefix) || Number(prefix) > (family === 4 ? 32 : 128);
  });
  if (bad !== undefined || items.length === 0) {
    ctx.addIssue({
      code: 'custom',
      message: `expected false, true, a hop count (1-100) or proxy addresses / CIDRs separated by commas (or ${PROXY_RANGES.join(', ')}); '${bad ?? v}' is none of these`,
    });
    return z.NEVER;
  }
  return items;
}

/** The collector's poll interval: the API derives staleness (3x) and the raw resolution from it. */
export const apiPollSchema = z.object({ COLLECTOR_POLL_INTERVAL_MS: cfg.int(10_000, 1_000, 3_600_000) });

/** Both schemas the API reads, every bad key of both reported in one ConfigError. */
export function loadApiConfig(env: NodeJS.ProcessEnv = process.env): ApiConfig {
  const raw = readRawConfig(env);
  const problems: string[] = [];
  let config: ApiConfig | undefined;
  try {
    config = parseConfig(apiConfigSchema, raw);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    problems.push(...err.problems);
  }
  try {
    parseConfig(apiPollSchema, raw);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    problems.push(...err.problems);
  }
  if (problems.length > 0 || !config) throw new ConfigError(problems);
  return config;
}
