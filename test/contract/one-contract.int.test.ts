import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startContractApp, type ContractApp } from './contract-app.ts';

// Issue #15 "one contract" (REST/MCP shapes) and the contract-fuzz findings that came with it,
// against the whole app as a client meets it (real listener, real JWTs, simulated miners).

let c: ContractApp;
const T1 = (): string => c.tenants[0]!.name;
const T2 = (): string => c.tenants[1]!.name;

beforeAll(async () => {
  c = await startContractApp();
}, 120_000);

afterAll(async () => {
  await c?.close();
});

type ErrorBody = { error: { code: string; message: string; details: Record<string, unknown> } };

async function raw(path: string, init: RequestInit & { role?: 'viewer' | 'operator' | 'admin' } = {}): Promise<Response> {
  const jwt = await c.token(T1(), init.role ?? 'operator');
  return fetch(`${c.base}${path}`, {
    ...init,
    headers: { authorization: `Bearer ${jwt}`, ...(init.headers as Record<string, string> | undefined) },
    signal: AbortSignal.timeout(20_000),
  });
}

describe('transport errors keep the API error body', () => {
  it('an over-long URL is answered { error: { code, message } }, not fastify\'s body', async () => {
    const r = await raw(`/api/v1/miners?model=${'x'.repeat(20_000)}`);
    expect(r.status).toBe(431);
    const body = (await r.json()) as ErrorBody;
    expect(body.error.code).toBe('invalid_argument');
    expect(body.error.message).toMatch(/16 KB/);
  });

  for (const [name, text, key] of [
    ['__proto__', '{"selector":{"all":true},"action":"locate_off","__proto__":{"x":1}}', '__proto__'],
    ['constructor.prototype', '{"selector":{"all":true,"constructor":{"prototype":{"x":1}}},"action":"locate_off"}', 'selector.constructor.prototype'],
  ] as const) {
    it(`a REST body with ${name} is refused naming the key, not "not valid JSON"`, async () => {
      const r = await raw('/api/v1/control/actions', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: text,
      });
      expect(r.status).toBe(400);
      const body = (await r.json()) as ErrorBody;
      expect(body.error.code).toBe('invalid_argument');
      expect(body.error.message).not.toMatch(/not valid JSON/);
      expect(body.error.message).toContain(`body.${key}`);
      expect(body.error.details.fields).toEqual([expect.objectContaining({ field: `body.${key}` })]);
    });
  }

  it('on /mcp a __proto__ key in tool arguments is a tool error naming the argument', async () => {
    const r = await raw('/mcp', {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
      body: '{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"list_miners","arguments":{"site":{"__proto__":{"a":1}}}}}',
    });
    expect(r.status).toBe(200);
    const body = (await r.json()) as { id: unknown; result: { isError: boolean; content: { text: string }[] } };
    expect(body.id).toBe(7);
    expect(body.result.isError).toBe(true);
    expect(body.result.content[0]!.text).toMatch(/^invalid_argument: site\.__proto__: /);
  });

  it('on /mcp a __proto__ key elsewhere comes back as a JSON-RPC error naming it', async () => {
    const r = await raw('/mcp', {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
      body: '{"jsonrpc":"2.0","id":7,"method":"tools/list","params":{"__proto__":{"a":1}}}',
    });
    expect(r.status).toBe(400);
    const body = (await r.json()) as { jsonrpc: string; error: { code: number; message: string }; id: unknown };
    expect(body.jsonrpc).toBe('2.0');
    expect(body.error.code).toBe(-32600);
    expect(body.error.message).toContain('__proto__');
    expect(body).not.toHaveProperty('error.details');
  });
});

describe('control answers say what happened', () => {
  it('PUT /control/pools with group but op=replace names the missing field in details', async () => {
    const r = await c.rest(T1(), 'operator', 'PUT', '/api/v1/control/pools', {
      id: c.tenants[0]!.miners[0],
      group: { name: 'g', pools: [{ url: 'stratum+tcp://pool.example.com:3333', user: 'u' }] },
      dry_run: true,
    });
    expect(r.status).toBe(400);
    const fields = (r.json as ErrorBody).error.details.fields as { field: string }[];
    expect(fields.map(f => f.field)).toEqual(expect.arrayContaining(['body.groups', 'body.group']));
  });

  it('a single-miner request its constraints refuse is 422 with the reason', async () => {
    const r = await c.rest(T1(), 'operator', 'POST', '/api/v1/control/power-target', {
      id: c.tenants[0]!.miners[0],
      watt: 100,
    });
    expect(r.status).toBe(422);
    const body = r.json as ErrorBody;
    expect(body.error.code).toBe('unsupported');
    expect(body.error.message).toMatch(/100/);
    expect(body.error.details).toMatchObject({ miner: c.tenants[0]!.miners[0], status: 'invalid' });
  });

  it('a batch says whether anything ran: refused everywhere is status refused', async () => {
    const r = await c.rest(T1(), 'operator', 'POST', '/api/v1/control/power-target', {
      selector: { ids: c.tenants[0]!.miners.slice(0, 2) },
      watt: 100,
      dry_run: true,
    });
    expect(r.status).toBe(200);
    expect(r.json).toMatchObject({ status: 'refused', dry_run: true });
    const ok = await c.rest(T1(), 'operator', 'POST', '/api/v1/control/actions', {
      selector: { ids: c.tenants[0]!.miners.slice(0, 2) },
      action: 'locate_off',
      dry_run: true,
    });
    expect(ok.json).toMatchObject({ status: 'ok', matched: 2 });
  });

  it('a batch naming only another tenant\'s or unknown ids is 404 naming them, not 200 matched:0', async () => {
    const foreign = c.tenants[0]!.miners[0]!;
    const r = await c.rest(T2(), 'operator', 'POST', '/api/v1/control/actions', {
      selector: { ids: [foreign, 'no-such-miner'] },
      action: 'locate_off',
    });
    expect(r.status).toBe(404);
    const body = r.json as ErrorBody;
    expect(body.error.code).toBe('not_found');
    expect([...(body.error.details.not_found as string[])].sort()).toEqual([foreign, 'no-such-miner'].sort());
  });

  it('dry_run is snake_case; camelCase dryRun is still accepted for one release', async () => {
    const id = c.tenants[0]!.miners[0]!;
    for (const body of [{ action: 'pause', dry_run: true }, { action: 'pause', dryRun: true }]) {
      const r = await c.rest(T1(), 'operator', 'POST', `/api/v1/miners/${id}/actions`, body);
      expect(r.status).toBe(200);
      expect(r.json).toMatchObject({ mode: 'dry_run', dry_run: true });
    }
    const both = await c.rest(T1(), 'operator', 'POST', `/api/v1/miners/${id}/actions`, {
      action: 'pause',
      dry_run: true,
      dryRun: false,
    });
    expect(both.status).toBe(400);
  });

  it('dry-run effects use one unit per kind at every level, rounded', async () => {
    const r = await c.rest(T1(), 'operator', 'POST', '/api/v1/control/actions', {
      selector: { ids: c.tenants[0]!.miners.slice(0, 2) },
      action: 'pause',
      dry_run: true,
    });
    const body = r.json as {
      effect: { power_kw: number; hashrate_ths: number };
      miners: { data: Record<string, unknown> }[];
    };
    const decimals = (n: number): number => (String(n).split('.')[1] ?? '').length;
    for (const m of body.miners) {
      expect(Object.keys(m.data).sort()).toEqual(['effect_hashrate_ths', 'effect_power_kw']);
      expect(decimals(m.data.effect_hashrate_ths as number)).toBeLessThanOrEqual(3);
      expect(decimals(m.data.effect_power_kw as number)).toBeLessThanOrEqual(3);
    }
    expect(decimals(body.effect.hashrate_ths)).toBeLessThanOrEqual(3);
    expect(decimals(body.effect.power_kw)).toBeLessThanOrEqual(3);
    const sum = body.miners.reduce((s, m) => s + (m.data.effect_hashrate_ths as number), 0);
    expect(Math.abs(sum - body.effect.hashrate_ths)).toBeLessThan(0.01);
  });
});

describe('lists share one shape', () => {
  it('GET /jobs answers { items, total, limit, truncated }', async () => {
    await c.rest(T1(), 'operator', 'POST', '/api/v1/control/actions', {
      selector: { all: true },
      action: 'locate_off',
    });
    const r = await c.rest(T1(), 'viewer', 'GET', '/api/v1/jobs?limit=5');
    expect(r.status).toBe(200);
    expect(r.json).toMatchObject({ items: expect.any(Array), total: expect.any(Number), limit: 5 });
    expect(r.json).not.toHaveProperty('jobs');
  });

  it('GET /schedules and the inventory lists answer { items, total }', async () => {
    for (const path of ['/api/v1/schedules', '/api/v1/inventory/miners', '/api/v1/inventory/credentials', '/api/v1/firmware/images']) {
      const r = await c.rest(T1(), 'admin', 'GET', path);
      expect(r.status, path).toBe(200);
      expect(r.json, path).toMatchObject({ items: expect.any(Array), total: expect.any(Number) });
    }
  });
});

describe('schedules check their selector like control does', () => {
  it('tenant-2 naming tenant-1\'s miner in selector.ids is 404 naming it', async () => {
    const foreign = c.tenants[0]!.miners[0]!;
    const r = await c.rest(T2(), 'operator', 'POST', '/api/v1/schedules', {
      name: 'poach',
      selector: { ids: [foreign] },
      cron: '0 3 1 1 *',
      duration_ms: 60_000,
      action: { type: 'pause' },
    });
    expect(r.status).toBe(404);
    expect((r.json as ErrorBody).error.details.not_found).toEqual([foreign]);
  });
});

describe('MCP speaks the same contract', () => {
  it('set_hashrate_target errors name its arguments, not the REST "(body)"', async () => {
    const mcp = await c.mcp(T1(), 'operator');
    const r = (await mcp.callTool({
      name: 'set_hashrate_target',
      arguments: { miner: c.tenants[0]!.miners[0], ths: 100, delta_ths: 1, dry_run: true },
    })) as { isError?: boolean; content: { text?: string }[] };
    const text = r.content.map(x => x.text ?? '').join('\n');
    expect(r.isError).toBe(true);
    expect(text).not.toContain('(body)');
    expect(text).toMatch(/^invalid_argument: .*ths, delta_ths or percent/);
  });

  it('a control request of the wrong form names the field, not "Invalid input"', async () => {
    const mcp = await c.mcp(T1(), 'operator');
    const r = (await mcp.callTool({
      name: 'set_cooling_mode',
      arguments: { miner: c.tenants[0]!.miners[0], mode: 'auto', dry_run: true },
    })) as { isError?: boolean; content: { text?: string }[] };
    const text = r.content.map(x => x.text ?? '').join('\n');
    expect(r.isError).toBe(true);
    expect(text).toMatch(/target_c/);
  });

  it('dry_run, status and items: the same names as REST', async () => {
    const mcp = await c.mcp(T1(), 'operator');
    const dry = (await mcp.callTool({
      name: 'miner_action',
      arguments: { selector: { ids: c.tenants[0]!.miners.slice(0, 2) }, action: 'pause', dry_run: true },
    })) as { isError?: boolean; structuredContent?: Record<string, unknown> };
    expect(dry.isError, JSON.stringify(dry)).toBeFalsy();
    expect(dry.structuredContent).toMatchObject({ dry_run: true, mode: 'dry_run', status: 'ok' });
    const jobs = (await mcp.callTool({ name: 'list_jobs', arguments: {} })) as { structuredContent?: Record<string, unknown> };
    expect(jobs.structuredContent).toHaveProperty('items');
  });
});
