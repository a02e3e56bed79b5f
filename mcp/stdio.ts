/**
 * `bos-fleet mcp`: the MCP server over stdio, for Claude Desktop and other local clients.
 * stdout carries the protocol, so every log line goes to stderr (pino on fd 2). The caller is
 * fixed by configuration (MCP_TENANT, MCP_ROLE); the process ends when the client closes stdin
 * or on SIGINT/SIGTERM, after closing its connections.
 */
import { StdioServerTransport, serveStdio } from '@modelcontextprotocol/server/stdio';
import { createLogger, type Logger } from '../runtime/logger.ts';
import { storeLine } from '../store/open-store.ts';
import type { Caller } from '../services/context.ts';
import { hasRole } from '../services/context.ts';
import { categoriesOf, type LoadedMcpConfig } from './config.ts';
import { createMcpRuntime, type McpRuntime } from './runtime.ts';
import { guardJsonRpcInput } from './stdio-guard.ts';
import { buildMcpServer, enabledTools } from './server.ts';

export interface StdioOptions {
  log?: Logger;
  input?: NodeJS.ReadableStream;
}

export function stdioCaller(c: LoadedMcpConfig['mcp']): Caller {
  return { sub: 'mcp-stdio', tenant: c.MCP_TENANT, roles: [c.MCP_ROLE] };
}

/**
 * No tenant was configured and the default one has no miners while others do: serving would
 * answer every question about an empty fleet. Returns the message naming the tenants there are,
 * or null when the default is right (it has miners, or no tenant has any yet). A store that
 * cannot be read is not a reason to refuse: the tools report it.
 */
async function unconfiguredTenant(runtime: McpRuntime, tenant: string): Promise<string | null> {
  const tenants = await runtime.deps.infra.store.state.tenants().catch(() => [] as string[]);
  if (tenants.length === 0 || tenants.includes(tenant)) return null;
  const listed = [...tenants].sort().slice(0, 20);
  return `no tenant configured: MCP_TENANT (or --tenant) is not set and tenant '${tenant}' has no miners; tenants with miners: ${listed.join(', ')}${tenants.length > listed.length ? ', …' : ''}. Set MCP_TENANT to one of them (or to '${tenant}' to serve it anyway).`;
}

/** Serve until the client goes away; resolves with the exit code. */
export async function runStdio(loaded: LoadedMcpConfig, o: StdioOptions = {}): Promise<number> {
  const { mcp, api } = loaded;
  const log = o.log ?? createLogger({ fd: 2, level: mcp.LOG_LEVEL, name: 'mcp' });
  const caller = stdioCaller(mcp);
  const readOnly = mcp.MCP_READ_ONLY;
  const categories = categoriesOf(mcp);
  const control = !readOnly && hasRole(caller, 'operator');
  const worker = mcp.MCP_WORKER && control;
  const runtime = await createMcpRuntime(api, log, { pollIntervalMs: mcp.COLLECTOR_POLL_INTERVAL_MS, worker, control });
  const wrongTenant = loaded.tenantGiven ? null : await unconfiguredTenant(runtime, caller.tenant);
  if (wrongTenant) {
    process.stderr.write(`${wrongTenant}\n`);
    await runtime.close();
    return 2;
  }
  const tools = enabledTools(caller, { readOnly, categories });
  const input = o.input ?? process.stdin;
  // Invalid JSON-RPC lines are answered by the guard; the SDK would drop them unanswered.
  const transport = new StdioServerTransport(guardJsonRpcInput(input, process.stdout), process.stdout);
  const handle = serveStdio(() => buildMcpServer(runtime.deps, caller, { readOnly, categories, log }), {
    transport,
    onerror: err => log.warn({ err: err.message }, 'MCP stdio transport error'),
  });
  log.info(
    { tenant: caller.tenant, role: mcp.MCP_ROLE, readOnly, tools: tools.length, worker, store: storeLine(runtime.deps.infra.store) },
    'bos-fleet MCP server on stdio',
  );
  await new Promise<void>(resolve => {
    const done = (): void => resolve();
    input.once('end', done);
    input.once('close', done);
    process.once('SIGINT', done);
    process.once('SIGTERM', done);
  });
  log.info('MCP stdio client gone; shutting down');
  await handle.close().catch(() => undefined);
  await runtime.close();
  return 0;
}
