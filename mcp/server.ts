/**
 * The MCP server factory shared by both transports (stdio: one server per connection; HTTP: one
 * per request, built from the caller's verified token). Which tools exist is decided here, at
 * registration: the caller's role (a viewer never sees control tools), read-only mode (no control
 * or admin tools) and the enabled categories. Server instructions describe only what is registered.
 */
import { McpServer } from '@modelcontextprotocol/server';
import { silentLogger, type Logger } from '../runtime/logger.ts';
import { hasRole, type Caller } from '../services/context.ts';
import { ROLE_FOR_ACCESS, TOOL_CATEGORIES, type McpDeps, type McpTool, type ToolCategory, type ToolEnv } from './define-tool.ts';
import { MinerLookup } from './lookup.ts';
import type { McpMetrics } from './metrics.ts';
import { registerPrompts } from './prompts.ts';
import { registerResources } from './resources.ts';
import { adminTools } from './tools/admin.ts';
import { analyticsTools } from './tools/analytics.ts';
import { profitabilityTools } from './tools/profitability.ts';
import { controlTools } from './tools/control.ts';
import { energyControlTools, energyReadTools } from './tools/curtailment.ts';
import { fleetTools } from './tools/fleet.ts';
import { jobControlTools, jobReadTools } from './tools/jobs.ts';
import { minerTools } from './tools/miners.ts';
import { telemetryTools } from './tools/telemetry.ts';

export const SERVER_NAME = 'bos-fleet';
export const SERVER_VERSION = '0.1.0';

/** Every tool, in the order tools/list shows them. */
export const ALL_TOOLS: readonly McpTool[] = [
  ...fleetTools,
  ...minerTools,
  ...telemetryTools,
  ...analyticsTools,
  ...profitabilityTools,
  ...jobReadTools,
  ...energyReadTools,
  ...controlTools,
  ...energyControlTools,
  ...jobControlTools,
  ...adminTools,
];

for (const name of new Set(ALL_TOOLS.map(t => t.name))) {
  if (ALL_TOOLS.filter(t => t.name === name).length > 1) throw new Error(`MCP tool ${name} is defined twice`);
}

export interface BuildOptions {
  /** No control or admin tools at all. */
  readOnly?: boolean;
  /** Categories to enable (default: all). */
  categories?: readonly ToolCategory[] | 'all';
  log?: Logger;
  metrics?: McpMetrics | undefined;
}

/** The tools a caller gets: allowed by role, by read-only mode and by the enabled categories. */
export function enabledTools(caller: Caller, options: Pick<BuildOptions, 'readOnly' | 'categories'> = {}): McpTool[] {
  const cats = new Set<ToolCategory>(
    options.categories === undefined || options.categories === 'all' ? TOOL_CATEGORIES : options.categories,
  );
  return ALL_TOOLS.filter(
    t =>
      cats.has(t.category) &&
      hasRole(caller, ROLE_FOR_ACCESS[t.access]) &&
      !(options.readOnly && t.access !== 'read'),
  );
}

function instructions(tools: readonly McpTool[], caller: Caller, readOnly: boolean): string {
  const byCat = new Map<string, string[]>();
  for (const t of tools) byCat.set(t.category, [...(byCat.get(t.category) ?? []), t.name]);
  const lines = [
    `bos-fleet: telemetry, analytics and control of Braiins OS bitcoin miners for tenant '${caller.tenant}' (role ${caller.roles.join(', ') || 'none'}).`,
    'Start with fleet_overview, then narrow down: list_miners / get_miner for machines, find_underperformers, find_hot_spots, efficiency_report and availability_report for rankings, query_telemetry for trends, diagnose_miner for one machine.',
    'Units are in the key names (hashrate_ths, power_kw, power_w, temp_chip_max_c, efficiency_jth); times are ISO 8601 UTC. Answers are bounded: when truncated is true, narrow the question or raise limit.',
  ];
  if (tools.some(t => t.access !== 'read'))
    lines.push('Changes go through dry_run first: every control tool accepts dry_run: true and reports what would change and the expected kW / TH/s effect.');
  else lines.push(readOnly ? 'This server is read-only: no tool changes miners.' : 'Your role cannot change miners; propose changes instead.');
  lines.push(`Tools by category: ${[...byCat].map(([c, n]) => `${c}: ${n.join(', ')}`).join('; ')}.`);
  return lines.join('\n');
}

/** One MCP server for one caller. */
export function buildMcpServer(deps: McpDeps, caller: Caller, options: BuildOptions = {}): McpServer {
  const tools = enabledTools(caller, options);
  const log = options.log ?? deps.infra.log ?? silentLogger();
  const server = new McpServer(
    { name: SERVER_NAME, title: 'bos-fleet', version: SERVER_VERSION },
    { instructions: instructions(tools, caller, options.readOnly ?? false) },
  );
  const env: ToolEnv = {
    deps,
    caller,
    log,
    lookup: new MinerLookup(deps.infra, deps.fleetQuery),
    metrics: options.metrics,
  };
  for (const t of tools) t.register(server, env);
  registerResources(server, env);
  registerPrompts(server, env, new Set(tools.map(t => t.name)));
  return server;
}
