/**
 * Configuration of the stdio MCP server (`bos-fleet mcp`), from the environment or the file
 * named by BOS_FLEET_CONFIG, validated at start-up with every problem reported at once. The
 * stdio server has no token: it acts as MCP_TENANT with MCP_ROLE. The stores and miner keys are
 * those of the collector and the API (same names, same defaults).
 */
import { z } from 'zod';
import { cfg, parseConfig, readRawConfig, type RawConfig } from '../runtime/config-loader.ts';
import { influxConfigShape, redisConfigShape, storeConfigShape } from '../collector/config.ts';
import { scopeNameSchema } from '../collector/inventory/schema.ts';
import { apiConfigSchema, type ApiConfig } from '../api/config.ts';
import { ROLES } from '../services/context.ts';
import { TOOL_CATEGORIES, type ToolCategory } from './define-tool.ts';

const categoriesMsg = `expected all, or a comma-separated list of ${TOOL_CATEGORIES.join(', ')}`;

export const mcpConfigSchema = z.object({
  LOG_LEVEL: cfg.oneOf(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const, 'info'),
  ...storeConfigShape,
  ...influxConfigShape,
  ...redisConfigShape,
  /** The collector's poll interval: staleness (3x) and the raw resolution derive from it. */
  COLLECTOR_POLL_INTERVAL_MS: cfg.int(10_000, 1_000, 3_600_000),
  ...apiConfigSchema.pick({
    MINER_RPC_TIMEOUT_MS: true,
    MINER_DEFAULT_USERNAME: true,
    MINER_DEFAULT_PASSWORD: true,
    BOSFLEET_SECRET_KEY: true,
    JOBS_CONCURRENCY: true,
    FIRMWARE_DIR: true,
    FIRMWARE_MINER_TIMEOUT_MS: true,
  }).shape,
  /** Tenant whose fleet this server sees. */
  MCP_TENANT: scopeNameSchema.default('default'),
  /** viewer reads; operator also controls miners; admin also manages the inventory. */
  MCP_ROLE: cfg.oneOf(ROLES, 'viewer'),
  /** No control or admin tools at all, whatever the role. */
  MCP_READ_ONLY: cfg.bool(false),
  /** Tool categories to enable. */
  MCP_TOOLS: cfg
    .list('all')
    .refine(l => l.length > 0 && l.every(c => c === 'all' || (TOOL_CATEGORIES as readonly string[]).includes(c)), {
      error: categoriesMsg,
    }),
  /**
   * Run the job worker and the schedule evaluator in this process (operator/admin, not read-only).
   * Set false when an API server runs them for the same Redis.
   */
  MCP_WORKER: cfg.bool(true),
});

export type McpConfig = z.output<typeof mcpConfigSchema>;

export interface LoadedMcpConfig {
  mcp: McpConfig;
  /** The same values as the API services expect them (stdio acts as AUTH_MODE=none with MCP_TENANT/MCP_ROLE). */
  api: ApiConfig;
  /** MCP_TENANT (or --tenant) was given, rather than defaulted. */
  tenantGiven: boolean;
}

/** Categories from MCP_TOOLS ('all' wins). */
export function categoriesOf(c: McpConfig): ToolCategory[] | 'all' {
  return c.MCP_TOOLS.includes('all') ? 'all' : (c.MCP_TOOLS as ToolCategory[]);
}

/**
 * Read and validate the configuration. `overrides` (command-line flags) win over the
 * environment and the file; undefined entries are ignored.
 */
export function loadMcpConfig(env: NodeJS.ProcessEnv = process.env, overrides: RawConfig = {}): LoadedMcpConfig {
  const raw: RawConfig = { ...readRawConfig(env) };
  for (const [k, v] of Object.entries(overrides)) if (v !== undefined) raw[k] = v;
  const mcp = parseConfig(mcpConfigSchema, raw);
  // Only our keys go to the API schema: an unrelated API_* key must not fail the stdio server.
  const picked: RawConfig = {};
  for (const key of Object.keys(mcpConfigSchema.shape)) picked[key] = raw[key];
  const api = parseConfig(apiConfigSchema, {
    ...picked,
    AUTH_MODE: 'none',
    AUTH_NONE_TENANT: mcp.MCP_TENANT,
    AUTH_NONE_ROLE: mcp.MCP_ROLE,
  });
  return { mcp, api, tenantGiven: typeof raw.MCP_TENANT === 'string' && raw.MCP_TENANT !== '' };
}
