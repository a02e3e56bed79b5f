import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { createMcpHandler } from '@modelcontextprotocol/server';
import { expect } from 'vitest';
import type { Caller } from '../../services/context.ts';
import type { ControlPlane } from '../../services/control/index.ts';
import { answerBytes } from '../../mcp/size-budget.ts';
import { ALL_TOOLS, buildMcpServer } from '../../mcp/server.ts';
import type { TestApp } from '../api/app/helpers.ts';
import type { SimulatedFleet } from '../../simulator/index.ts';

/**
 * The real MCP client connected in-process to the MCP server over a test app's query service.
 * The control plane is not built: for read and validation tests only.
 */
export async function connectReadOnlyMcp(t: TestApp, caller: Caller): Promise<Client> {
  const deps = { fleetQuery: t.fleetQuery, infra: t.infra, plane: {} as ControlPlane };
  const handler = createMcpHandler(() => buildMcpServer(deps, caller, { log: t.infra.log }));
  const client = new Client({ name: 'bos-fleet-test', version: '1.0.0' }, { versionNegotiation: { mode: 'auto' } });
  await client.connect(
    new StreamableHTTPClientTransport(new URL('http://mcp.test/mcp'), {
      fetch: (url, init) => handler.fetch(new Request(url, init)),
    }),
  );
  return client;
}

export interface ToolResult {
  isError?: boolean;
  content: { type: string; text?: string }[];
  structuredContent?: Record<string, unknown>;
}

/** Call a tool; expect success, check the answer against the tool's own output schema, return it. */
export async function call<T = Record<string, unknown>>(
  client: Client,
  name: string,
  args: Record<string, unknown> = {},
): Promise<{ s: T; text: string; bytes: number }> {
  const r = (await client.callTool({ name, arguments: args })) as ToolResult;
  const text = r.content.map(c => c.text ?? '').join('\n');
  expect(r.isError, `${name} failed: ${text}`).toBeFalsy();
  const tool = ALL_TOOLS.find(t => t.name === name)!;
  const parsed = tool.output.safeParse(r.structuredContent);
  expect(parsed.success, `${name}: ${parsed.success ? '' : JSON.stringify(parsed.error.issues.slice(0, 3))}`).toBe(true);
  return { s: r.structuredContent as T, text, bytes: answerBytes(text, r.structuredContent) };
}

/** Call a tool and expect an isError result; returns its text. */
export async function callError(client: Client, name: string, args: Record<string, unknown> = {}): Promise<string> {
  const r = (await client.callTool({ name, arguments: args })) as ToolResult;
  const text = r.content.map(c => c.text ?? '').join('\n');
  expect(r.isError, `${name} unexpectedly succeeded: ${text}`).toBe(true);
  return text;
}

/** What a control tool could have changed on a miner, for "nothing changed" checks. */
export function minerState(fleet: SimulatedFleet, id: string): Record<string, unknown> {
  const t = fleet.truth(id);
  return {
    power_target_w: t.power_target_w,
    status: t.status,
    cooling_mode: t.cooling_mode,
    locate: t.locate,
    pools: t.pools.map(p => `${p.group}|${p.url}|${p.user}|${p.enabled}`),
    boards: t.boards.map(b => `${b.id}:${b.enabled}`),
    firmware: t.firmware,
    reachable: t.reachable,
  };
}

export function fleetState(fleet: SimulatedFleet): Record<string, Record<string, unknown>> {
  return Object.fromEntries(fleet.miners.map(m => [m.id, minerState(fleet, m.id)]));
}

export const withFault = (fleet: SimulatedFleet, kind: string): string[] =>
  fleet.miners.filter(m => fleet.faults(m.id).some(f => f.kind === kind)).map(m => m.id);
