import { Client } from '@modelcontextprotocol/client';
import { StdioClientTransport, getDefaultEnvironment } from '@modelcontextprotocol/client/stdio';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ALL_TOOLS, enabledTools } from '../../mcp/server.ts';
import { call, callError, fleetState } from './helpers.ts';
import { sleep, startMcpHarness, type McpHarness } from './harness.ts';

// `bos-fleet mcp` as Claude Desktop runs it: a child process speaking MCP on stdin/stdout, with
// its tenant and role from the environment, on the stores the harness's collector fills.
let h: McpHarness;

interface Spawned {
  client: Client;
  transport: StdioClientTransport;
  stderr: () => string;
}

async function spawnMcp(env: Record<string, string>, args: string[] = []): Promise<Spawned> {
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: ['bin/bos-fleet.ts', 'mcp', ...args],
    env: { ...getDefaultEnvironment(), ...h.env, LOG_LEVEL: 'info', MCP_TENANT: h.tenant, ...env },
    stderr: 'pipe',
    cwd: process.cwd(),
  });
  let err = '';
  transport.stderr?.on('data', (c: Buffer) => (err += c.toString()));
  const client = new Client({ name: 'stdio-test', version: '1.0.0' });
  await client.connect(transport);
  return { client, transport, stderr: () => err };
}

beforeAll(async () => {
  h = await startMcpHarness();
}, 120_000);

afterAll(async () => {
  await h?.close();
});

describe('bos-fleet mcp over stdio', () => {
  it('serves the tools of its configured role, answers from the stores, logs only to stderr, exits when stdin closes', async () => {
    const before = fleetState(h.fleet);
    const p = await spawnMcp({ MCP_ROLE: 'operator' });
    const { tools } = await p.client.listTools();
    expect(tools.map(t => t.name).sort()).toEqual(enabledTools(h.operator).map(t => t.name).sort());
    const o = await call<{ tenant: string; totals: { miners: number; by_status: { offline: number } } }>(p.client, 'fleet_overview');
    expect(o.s.tenant).toBe(h.tenant);
    expect(o.s.totals.miners).toBe(h.fleet.miners.length);
    expect(o.s.totals.by_status.offline).toBe(h.fleet.miners.filter(m => !h.fleet.truth(m.id).reachable).length);
    const id = h.fleet.miners.find(m => h.fleet.truth(m.id).reachable)!.id;
    const ping = await call<{ reachable: boolean; firmware: string }>(p.client, 'ping_miner', { miner: id });
    expect(ping.s).toMatchObject({ reachable: true, firmware: h.fleet.truth(id).firmware });
    expect(await callError(p.client, 'get_miner', { miner: `${id}x` })).toContain(`did you mean '${id}'`);
    const summary = await p.client.readResource({ uri: 'bosfleet://fleet/summary' });
    expect(JSON.parse((summary.contents[0] as { text: string }).text).tenant).toBe(h.tenant);
    const dry = await call<{ dry_run: boolean }>(p.client, 'miner_action', { miner: id, action: 'reboot', dryRun: true });
    expect(dry.s.dry_run).toBe(true);
    expect(fleetState(h.fleet)).toEqual(before);

    // stdout carried only the protocol (the client parsed every line); the logs went to stderr.
    expect(p.stderr()).toMatch(/bos-fleet MCP server on stdio/);
    const pid = p.transport.pid!;
    await p.client.close();
    let alive = true;
    for (let i = 0; i < 50 && alive; i++) {
      await sleep(100);
      try {
        process.kill(pid, 0);
      } catch {
        alive = false;
      }
    }
    expect(alive).toBe(false);
  });

  it('--read-only and MCP_TOOLS leave out what they should; a viewer never sees control tools', async () => {
    const ro = await spawnMcp({ MCP_ROLE: 'admin' }, ['--read-only']);
    expect((await ro.client.listTools()).tools.map(t => t.name).sort()).toEqual(
      ALL_TOOLS.filter(t => t.access === 'read').map(t => t.name).sort(),
    );
    await ro.client.close();
    const some = await spawnMcp({ MCP_ROLE: 'viewer', MCP_TOOLS: 'fleet,analytics' });
    const names = (await some.client.listTools()).tools.map(t => t.name);
    expect(names.sort()).toEqual(ALL_TOOLS.filter(t => ['fleet', 'analytics'].includes(t.category)).map(t => t.name).sort());
    await expect(some.client.callTool({ name: 'set_power_target', arguments: { miner: 'x', watt: 1 } })).rejects.toThrow();
    await some.client.close();
  });

  it('reports every configuration problem on stderr and does not start', async () => {
    const transport = new StdioClientTransport({
      command: process.execPath,
      args: ['bin/bos-fleet.ts', 'mcp'],
      env: { ...getDefaultEnvironment(), MCP_ROLE: 'superuser', MCP_TOOLS: 'fleet,bogus' },
      stderr: 'pipe',
    });
    let err = '';
    transport.stderr?.on('data', (c: Buffer) => (err += c.toString()));
    const client = new Client({ name: 'stdio-test', version: '1.0.0' });
    await expect(client.connect(transport)).rejects.toThrow();
    await sleep(300);
    expect(err).toMatch(/MCP_ROLE="superuser": expected one of viewer, operator, admin/);
    expect(err).toMatch(/MCP_TOOLS=.*expected all, or a comma-separated list of fleet/);
  });
});
