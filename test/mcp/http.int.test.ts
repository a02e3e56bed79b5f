import { request as httpRequest } from 'node:http';
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { SignJWT, exportSPKI, generateKeyPair, type CryptoKey } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BACKENDS } from '../store/backends.ts';
import { loadApiConfig } from '../../api/config.ts';
import { startApiServer, type ApiServer } from '../../api/server.ts';
import { fullApiExtension } from '../../api/wiring.ts';
import { silentLogger } from '../../runtime/logger.ts';
import { ALL_TOOLS } from '../../mcp/server.ts';
import { call, callError, fleetState } from './helpers.ts';
import { startMcpHarness, type McpHarness } from './harness.ts';

// MCP over Streamable HTTP on the real API server: startApiServer on port 0 with the full
// extension (control plane, audit, /mcp and its OAuth metadata), the same JWT verifier, error
// handler and rate limits as REST. Tokens are real JWTs (ES256, jose). API_PUBLIC_URL is a
// public https name, as behind a reverse proxy: the metadata and the challenge use it.
describe.each(BACKENDS)('MCP over HTTP (%s store)', backend => {
let h: McpHarness;
let server: ApiServer;
let base: string;
const PUBLIC = 'https://fleet.example.com';
let privateKey: CryptoKey;
let before: ReturnType<typeof fleetState>;

async function token(claims: Record<string, unknown>, o: { expS?: number; sub?: string } = {}): Promise<string> {
  const now = Math.floor(Date.now() / 1_000);
  return await new SignJWT(claims)
    .setProtectedHeader({ alg: 'ES256' })
    .setSubject(o.sub ?? 'alice@example.com')
    .setIssuer('bos-fleet')
    .setAudience('bos-fleet')
    .setIssuedAt(now - 60)
    .setExpirationTime(o.expS ?? now + 3_600)
    .sign(privateKey);
}

async function connect(jwt: string, legacy = false): Promise<Client> {
  const client = new Client({ name: 'http-test', version: '1.0.0' }, legacy ? {} : { versionNegotiation: { mode: 'auto' } });
  await client.connect(
    new StreamableHTTPClientTransport(new URL(`${base}/mcp`), { requestInit: { headers: { authorization: `Bearer ${jwt}` } } }),
  );
  return client;
}

/** A raw request with any Host / Origin (fetch does not let us set Host). */
function raw(o: { method?: string; path: string; headers?: Record<string, string>; body?: string }): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }> {
  const url = new URL(base);
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      { host: url.hostname, port: url.port, method: o.method ?? 'POST', path: o.path, headers: o.headers ?? {} },
      res => {
        let body = '';
        res.on('data', (c: Buffer) => (body += c.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      },
    );
    req.on('error', reject);
    req.end(o.body);
  });
}

const initBody = JSON.stringify({
  jsonrpc: '2.0',
  id: 1,
  method: 'initialize',
  params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'raw', version: '1' } },
});
const mcpHeaders = { 'content-type': 'application/json', accept: 'application/json, text/event-stream' };

beforeAll(async () => {
  h = await startMcpHarness({ backend });
  const keys = await generateKeyPair('ES256');
  privateKey = keys.privateKey;
  const config = loadApiConfig({
    ...h.env,
    AUTH_MODE: 'jwt',
    AUTH_PUBLIC_KEY: await exportSPKI(keys.publicKey),
    API_PUBLIC_URL: PUBLIC,
    RATE_LIMIT_MAX: '100000',
    RATE_LIMIT_AUTH_FAILURES_MAX: '100000',
    RATE_LIMIT_CONTROL_MAX: '3',
    MCP_TENANT_CONCURRENCY: '2',
    MCP_TENANT_QUEUE: '2',
    MCP_ALLOWED_HOSTS: '127.0.0.1,localhost',
    MCP_ALLOWED_ORIGINS: 'app.example.com',
  });
  server = await startApiServer(config, {
    host: '127.0.0.1',
    port: 0,
    log: silentLogger(),
    handleSignals: false,
    // one store for collector, harness and server (an embedded data folder admits one process)
    store: h.store,
    env: { COLLECTOR_POLL_INTERVAL_MS: '1000' },
    extension: fullApiExtension(),
  });
  base = server.url;
  before = fleetState(h.fleet);
}, 120_000);

afterAll(async () => {
  await server?.close();
  await h?.close();
});

describe('OAuth protected resource (RFC 9728) and the 401 challenge', () => {
  it('serves the metadata at both well-known locations', async () => {
    for (const path of ['/.well-known/oauth-protected-resource', '/.well-known/oauth-protected-resource/mcp']) {
      const r = await fetch(`${base}${path}`);
      expect(r.status).toBe(200);
      expect(await r.json()).toMatchObject({ resource: `${PUBLIC}/mcp`, bearer_methods_supported: ['header'] });
    }
  });

  it('answers a request without a token with 401 and a challenge that points at the metadata', async () => {
    const r = await raw({ path: '/mcp', headers: { ...mcpHeaders, host: new URL(base).host }, body: initBody });
    expect(r.status).toBe(401);
    const challenge = String(r.headers['www-authenticate']);
    expect(challenge).toMatch(/^Bearer /);
    expect(challenge).toContain(`resource_metadata="${PUBLIC}/.well-known/oauth-protected-resource/mcp"`);
    expect(challenge).not.toContain('invalid_token');
  });

  it('refuses an expired, a forged and a role-less token', async () => {
    const expired = await token({ tenant: h.tenant, roles: ['viewer'] }, { expS: Math.floor(Date.now() / 1_000) - 10 });
    const r1 = await raw({ path: '/mcp', headers: { ...mcpHeaders, host: new URL(base).host, authorization: `Bearer ${expired}` }, body: initBody });
    expect(r1.status).toBe(401);
    expect(String(r1.headers['www-authenticate'])).toMatch(/error="invalid_token", error_description="token expired/);
    const other = await generateKeyPair('ES256');
    const forged = await new SignJWT({ tenant: h.tenant, roles: ['admin'] })
      .setProtectedHeader({ alg: 'ES256' })
      .setSubject('mallory')
      .setIssuer('bos-fleet')
      .setAudience('bos-fleet')
      .setExpirationTime('1h')
      .sign(other.privateKey);
    const r2 = await raw({ path: '/mcp', headers: { ...mcpHeaders, host: new URL(base).host, authorization: `Bearer ${forged}` }, body: initBody });
    expect(r2.status).toBe(401);
    await expect(connect(forged)).rejects.toThrow();
    const noRole = await token({ tenant: h.tenant, roles: ['guest'] });
    const r3 = await raw({ path: '/mcp', headers: { ...mcpHeaders, host: new URL(base).host, authorization: `Bearer ${noRole}` }, body: initBody });
    expect(r3.status).toBe(403);
    expect(String(r3.headers['www-authenticate'])).toContain('insufficient_scope');
  });
});

describe('Host and Origin checks', () => {
  it('refuses a foreign Host (DNS rebinding) and a foreign Origin, before authentication', async () => {
    const jwt = await token({ tenant: h.tenant, roles: ['viewer'] });
    const auth = { ...mcpHeaders, authorization: `Bearer ${jwt}` };
    const evilHost = await raw({ path: '/mcp', headers: { ...auth, host: 'evil.example.com' }, body: initBody });
    expect(evilHost.status).toBe(403);
    expect(evilHost.body).toMatch(/MCP_ALLOWED_HOSTS/);
    const evilOrigin = await raw({ path: '/mcp', headers: { ...auth, host: new URL(base).host, origin: 'https://evil.example.com' }, body: initBody });
    expect(evilOrigin.status).toBe(403);
    expect(evilOrigin.body).toMatch(/MCP_ALLOWED_ORIGINS/);
    const noTokenEvilHost = await raw({ path: '/mcp', headers: { ...mcpHeaders, host: 'evil.example.com' }, body: initBody });
    expect(noTokenEvilHost.status).toBe(403);
    const okOrigin = await raw({ path: '/mcp', headers: { ...auth, host: new URL(base).host, origin: 'https://app.example.com' }, body: initBody });
    expect(okOrigin.status).toBe(200);
    // Behind a reverse proxy: the host of API_PUBLIC_URL is allowed as Host and as Origin.
    const proxied = await raw({ path: '/mcp', headers: { ...auth, host: 'fleet.example.com', origin: PUBLIC }, body: initBody });
    expect(proxied.status).toBe(200);
  });
});

describe('tenant scoping and roles, as REST', () => {
  it('a viewer sees and runs read tools only; answers match the simulator', async () => {
    const viewer = await connect(await token({ tenant: h.tenant, roles: ['viewer'] }));
    const { tools } = await viewer.listTools();
    expect(tools.map(t => t.name).sort()).toEqual(ALL_TOOLS.filter(t => t.access === 'read').map(t => t.name).sort());
    const o = await call<{ totals: { miners: number; by_status: { offline: number } } }>(viewer, 'fleet_overview');
    expect(o.s.totals.miners).toBe(h.fleet.miners.length);
    expect(o.s.totals.by_status.offline).toBe(h.fleet.miners.filter(m => !h.fleet.truth(m.id).reachable).length);
    await expect(viewer.callTool({ name: 'set_power_target', arguments: { miner: h.fleet.miners[0]!.id, watt: 2000 } })).rejects.toThrow();
    await viewer.close();
  });

  it('an operator gets control tools; a 2025-era client is served too; another tenant sees nothing', async () => {
    const id = h.fleet.miners.find(m => h.fleet.truth(m.id).reachable)!.id;
    const operator = await connect(await token({ tenant: h.tenant, roles: ['operator'] }, { sub: 'otto' }));
    const dry = await call<{ dry_run: boolean; miners: { status: string }[] }>(operator, 'set_power_target', {
      miner: id,
      watt: h.fleet.truth(id).power_target_w - 100,
      dry_run: true,
    });
    expect(dry.s.dry_run).toBe(true);
    expect(dry.s.miners[0]!.status).toBe('would_apply');
    const legacy = await connect(await token({ tenant: h.tenant, roles: ['operator'] }), true);
    expect((await legacy.listTools()).tools.map(t => t.name)).toContain('miner_action');
    const stranger = await connect(await token({ tenant: 'someone-else', roles: ['admin'] }));
    expect(await callError(stranger, 'get_miner', { miner: id })).toMatch(/unknown miner/);
    expect((await call<{ totals: { miners: number } }>(stranger, 'fleet_overview')).s.totals.miners).toBe(0);
    for (const c of [operator, legacy, stranger]) await c.close();
    expect(fleetState(h.fleet)).toEqual(before);
  });

  it('control tool calls share the per-caller control rate limit with REST; reads do not count', async () => {
    const id = h.fleet.miners.find(m => h.fleet.truth(m.id).reachable)!.id;
    const c = await connect(await token({ tenant: h.tenant, roles: ['operator'] }, { sub: 'rate-limited-rita' }));
    for (let i = 0; i < 5; i++) await call(c, 'get_miner', { miner: id });
    for (let i = 0; i < 3; i++) await call(c, 'miner_action', { miner: id, action: 'locate_on', dry_run: true });
    await expect(c.callTool({ name: 'miner_action', arguments: { miner: id, action: 'locate_on', dry_run: true } })).rejects.toThrow(/429|rate limit/i);
    await call(c, 'get_miner', { miner: id });
    await c.close();
  });

  it('refuses a JSON-RPC batch (it would escape the per-call limits): nothing in it runs', async () => {
    const id = h.fleet.miners.find(m => h.fleet.truth(m.id).reachable)!.id;
    const jwt = await token({ tenant: h.tenant, roles: ['operator'] }, { sub: 'batching-bob' });
    const headers = { ...mcpHeaders, host: new URL(base).host, authorization: `Bearer ${jwt}`, 'mcp-protocol-version': '2025-06-18' };
    const calls = Array.from({ length: 10 }, (_, i) => ({
      jsonrpc: '2.0',
      id: i + 1,
      method: 'tools/call',
      params: { name: 'miner_action', arguments: { miner: id, action: 'locate_on', dry_run: true } },
    }));
    const r = await raw({ path: '/mcp', headers, body: JSON.stringify(calls) });
    expect(r.status).toBe(400);
    expect(JSON.parse(r.body)).toMatchObject({ jsonrpc: '2.0', id: null, error: { code: -32600, message: expect.stringMatching(/batch/) } });
    // A one-element batch too; the caller's control budget (3) is untouched by the refused batches.
    const one = await raw({ path: '/mcp', headers, body: JSON.stringify(calls.slice(0, 1)) });
    expect(one.status).toBe(400);
    const c = await connect(jwt);
    for (let i = 0; i < 3; i++) await call(c, 'miner_action', { miner: id, action: 'locate_on', dry_run: true });
    await expect(c.callTool({ name: 'miner_action', arguments: { miner: id, action: 'locate_on', dry_run: true } })).rejects.toThrow(/429|rate limit/i);
    await c.close();
  });

  it("a tenant's burst is held to its share (2 running, 2 waiting, the rest 429) while another tenant is served", async () => {
    const flooder = await token({ tenant: h.tenant, roles: ['viewer'] }, { sub: 'flooding-fred' });
    const headers = { ...mcpHeaders, host: new URL(base).host, authorization: `Bearer ${flooder}`, 'mcp-protocol-version': '2025-06-18' };
    const body = JSON.stringify({
      jsonrpc: '2.0',
      id: 1,
      method: 'tools/call',
      params: { name: 'query_telemetry', arguments: { window: '6h' } },
    });
    const other = await connect(await token({ tenant: 'someone-else', roles: ['viewer'] }));
    const [burst, calm] = await Promise.all([
      Promise.all(Array.from({ length: 30 }, () => raw({ path: '/mcp', headers, body }))),
      call<{ totals: { miners: number } }>(other, 'fleet_overview'),
    ]);
    expect(calm.s.totals.miners).toBe(0);
    const refused = burst.filter(r => r.status === 429);
    expect(refused.length).toBeGreaterThan(0);
    expect(burst.filter(r => r.status !== 429).every(r => r.status === 200)).toBe(true);
    expect(refused[0]!.headers['retry-after']).toBe('1');
    expect(JSON.parse(refused[0]!.body)).toMatchObject({ jsonrpc: '2.0', error: { message: expect.stringMatching(/MCP_TENANT_CONCURRENCY/) } });
    // The burst is over: the tenant is served again.
    expect(burst.some(r => r.status === 200 && r.body.includes('"result"'))).toBe(true);
    await other.close();
  });

  it('counts tool calls on the API metrics', async () => {
    const r = await fetch(`${base}/metrics`);
    expect(await r.text()).toMatch(/bosfleet_mcp_tool_calls_total\{tool="fleet_overview",outcome="ok"\} \d+/);
  });
});
});
