import { spawn } from 'node:child_process';
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

  it('answers every invalid line with the JSON-RPC error the spec names, and keeps serving', async () => {
    const child = spawn(process.execPath, ['bin/bos-fleet.ts', 'mcp'], {
      env: { ...getDefaultEnvironment(), ...h.env, MCP_TENANT: h.tenant, LOG_LEVEL: 'warn' },
      stdio: ['pipe', 'pipe', 'pipe'],
      cwd: process.cwd(),
    });
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.resume();
    const lines = (): Record<string, unknown>[] =>
      out.split('\n').filter(l => l.trim() !== '').map(l => JSON.parse(l) as Record<string, unknown>);
    const cases: [string, number, unknown][] = [
      ['{"jsonrpc":"2.0","id":1,"method":"ping","params":"x"}', -32600, 1],
      ['{"jsonrpc":"1.0","id":2,"method":"ping"}', -32600, 2],
      ['{"jsonrpc":"2.0","id":{"a":1},"method":"ping"}', -32600, null],
      ['{"jsonrpc":"2.0","id":1e400,"method":"ping"}', -32600, null],
      ['{"jsonrpc":"2.0","id":5,"method":7}', -32600, 5],
      ['{"jsonrpc":"2.0","id":6,"method":"tools/list","params":[1]}', -32602, 6],
      ['[{"jsonrpc":"2.0","id":7,"method":"ping"}]', -32600, null],
      ['{"jsonrpc":"2.0","id":8,', -32700, null],
    ];
    for (const [line] of cases) child.stdin.write(`${line}\n`);
    child.stdin.write(
      `${JSON.stringify({ jsonrpc: '2.0', id: 99, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'raw', version: '1' } } })}\n`,
    );
    const deadline = Date.now() + 30_000;
    while (!lines().some(m => m.id === 99) && Date.now() < deadline) await sleep(50);
    child.stdin.end();
    const answers = lines();
    const errors = answers.filter(m => m.id !== 99);
    expect(errors.map(m => [(m.error as { code: number } | undefined)?.code, m.id])).toEqual(cases.map(([, code, id]) => [code, id]));
    for (const e of errors) expect((e.error as { message: string }).message.length).toBeGreaterThan(10);
    expect(answers.find(m => m.id === 99)).toMatchObject({ jsonrpc: '2.0', result: { serverInfo: { name: 'bos-fleet' } } });
  });

  it('without a configured tenant, names the tenants there are instead of serving an empty one', async () => {
    const env: Record<string, string> = { ...getDefaultEnvironment(), ...h.env, LOG_LEVEL: 'warn' };
    delete env.MCP_TENANT;
    const transport = new StdioClientTransport({ command: process.execPath, args: ['bin/bos-fleet.ts', 'mcp'], env, stderr: 'pipe', cwd: process.cwd() });
    let err = '';
    transport.stderr?.on('data', (c: Buffer) => (err += c.toString()));
    const client = new Client({ name: 'stdio-test', version: '1.0.0' });
    await expect(client.connect(transport)).rejects.toThrow();
    const deadline = Date.now() + 10_000;
    while (!/MCP_TENANT/.test(err) && Date.now() < deadline) await sleep(50);
    expect(err).toMatch(new RegExp(`no tenant configured.*tenant 'default' has no miners; tenants with miners: .*${h.tenant}`));
    expect(err).toMatch(/Set MCP_TENANT to one of them/);
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
