import { TOOL_CATEGORIES } from '../../mcp/define-tool.ts';
import { loadMcpConfig } from '../../mcp/config.ts';
import { runStdio } from '../../mcp/stdio.ts';
import type { CliCommand } from '../command.ts';
import { STORE_OPTIONS, storeOverrides } from '../store-options.ts';

const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);

export const mcpCommand: CliCommand = {
  name: 'mcp',
  summary: 'Serve the MCP server over stdio (for Claude Desktop and similar clients).',
  description: [
    'stdout carries the MCP protocol; logs go to stderr. Configuration comes from the environment or the',
    'file named by BOS_FLEET_CONFIG (see .env.example and mcp/README.md):',
    '  BOSFLEET_STORE, BOSFLEET_DATA_DIR the store (the embedded one serves one process: use MCP over HTTP of bos-fleet start)',
    '  INFLUX_*, REDIS_*                the stores the collector writes (same values as for the API)',
    '  MCP_TENANT=default               whose fleet this server sees',
    '  MCP_ROLE=viewer                  viewer reads; operator also controls miners; admin also manages the inventory',
    '  MCP_READ_ONLY=false              true: no control or admin tools at all',
    `  MCP_TOOLS=all                    categories to enable: ${TOOL_CATEGORIES.join(', ')}`,
    '  MCP_WORKER=true                  run the job worker here (false when an API server runs it)',
    '  MINER_DEFAULT_USERNAME / MINER_DEFAULT_PASSWORD, BOSFLEET_SECRET_KEY for live miner calls',
    'Flags override the environment. Ends when the client closes stdin, or on SIGINT/SIGTERM.',
  ].join('\n'),
  options: {
    tenant: { type: 'string', description: 'Tenant (overrides MCP_TENANT).' },
    role: { type: 'string', description: 'viewer, operator or admin (overrides MCP_ROLE).' },
    'read-only': { type: 'boolean', description: 'Register no control or admin tools (overrides MCP_READ_ONLY).' },
    tools: { type: 'string', description: `Comma-separated categories to enable, or all (overrides MCP_TOOLS).` },
    ...STORE_OPTIONS,
  },
  async run(values) {
    const loaded = loadMcpConfig(process.env, {
      MCP_TENANT: str(values.tenant),
      MCP_ROLE: str(values.role),
      MCP_READ_ONLY: values['read-only'] === true ? 'true' : undefined,
      MCP_TOOLS: str(values.tools),
      ...storeOverrides(values),
    });
    return await runStdio(loaded);
  },
};
