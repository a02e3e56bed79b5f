import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FINAL_STATUSES } from '../../services/jobs/types.ts';
import { minerState } from '../mcp/helpers.ts';
import { waitFor } from '../services/control/harness.ts';
import { shortly } from './contract-checks.ts';
import { startContractApp, type ContractApp, type TenantObjects } from './contract-app.ts';
import { fillPath, operationsOf, type Operation } from './openapi-ops.ts';
import { validOf, type Hints, type JsonSchema } from './schema-arbitrary.ts';

// Tenant-2 (admin, the strongest role) aims at tenant-1's miners, jobs, schedules, firmware
// images and credentials through every REST route and every MCP tool that takes such an id.
// The routes and tools are derived from the API's own documents (GET /docs/json, tools/list),
// so a new route is covered without anyone adding it here; an id the suite does not know how
// to fill fails the derivation test by name.
//
// Expected: 404 (never 403, which would confirm the object exists; never data), MCP
// `not_found`, and tenant-1's state unchanged (its objects through the API, and its simulated
// miners' own state). Writes are real (no dry run), on simulated miners.
const SEED = 150_015;

let c: ContractApp;
let t1: TenantObjects;
let t2: TenantObjects;
let doc: unknown;

beforeAll(async () => {
  c = await startContractApp();
  t1 = await c.seedObjects(c.tenants[0]!.name);
  t2 = await c.seedObjects(c.tenants[1]!.name);
  doc = await (await fetch(`${c.base}/docs/json`)).json();
  // The seeded jobs finish first, so "unchanged" compares settled states.
  for (const [t, o] of [[c.tenants[0]!.name, t1], [c.tenants[1]!.name, t2]] as const)
    await waitFor(`job ${o.jobId} to finish`, async () => {
      const r = await c.rest(t, 'viewer', 'GET', `/api/v1/jobs/${o.jobId}`);
      return (FINAL_STATUSES as readonly string[]).includes(String((r.json as { status?: string }).status));
    }, 30_000);
}, 120_000);

afterAll(async () => {
  await c?.close();
});

const T1 = (): string => c.tenants[0]!.name;
const T2 = (): string => c.tenants[1]!.name;

/**
 * Tenant-1's value for an id parameter, by route and name. A parameter not listed here throws:
 * teach the suite the new kind of id (and what tenant-1 owns of it) in one line.
 */
function tenant1Id(route: string, name: string): string {
  if (/^\/api\/v1\/(inventory\/)?miners\/\{id\}/.test(route) && name === 'id') return t1.miners[0]!;
  if (route.startsWith('/api/v1/jobs/{id}') && name === 'id') return t1.jobId;
  if (route.startsWith('/api/v1/schedules/{id}') && name === 'id') return t1.scheduleId;
  if (route.startsWith('/api/v1/energy/policies/{id}') && name === 'id') return t1.energyPolicyId;
  if (route.startsWith('/api/v1/energy/executions/{id}') && name === 'id') return t1.energyExecutionId;
  if (route.startsWith('/api/v1/firmware/images/{sha256}') && name === 'sha256') return t1.imageSha256;
  if (route.startsWith('/api/v1/inventory/credentials/{name}') && name === 'name') return t1.credentialName;
  throw new Error(`cross-tenant suite: no tenant-1 value for path parameter {${name}} of ${route}; add it to tenant1Id()`);
}

/** Upserts by name: tenant-2 may create its own object of that name (names are per tenant). */
const UPSERT_BY_NAME = new Set(['PUT /api/v1/inventory/credentials/{name}', 'PUT /api/v1/energy/policies/{id}']);

/** What tenant-1 owns, as tenant-1 sees it through the API, and its miners' own state. */
async function tenant1State(): Promise<Record<string, unknown>> {
  const get = async (path: string): Promise<unknown> => (await c.rest(T1(), 'admin', 'GET', path)).json;
  const job = (await get(`/api/v1/jobs/${t1.jobId}`)) as Record<string, unknown>;
  const schedules = (await get('/api/v1/schedules')) as { items?: unknown[] };
  return {
    inventory: await get('/api/v1/inventory/miners'),
    credentials: await get('/api/v1/inventory/credentials'),
    images: await get('/api/v1/firmware/images'),
    schedules: schedules.items ?? schedules,
    energy_policies: await get('/api/v1/energy/policies'),
    energy_execution: await get(`/api/v1/energy/executions/${t1.energyExecutionId}`),
    job: { id: job.id, status: job.status },
    miners: Object.fromEntries(t1.miners.map(id => [id, minerState(c.h.fleet, id)])),
  };
}

/** Tenant-1's data that must never appear in an answer to tenant-2 (what it did not send itself). */
function tenant1Secrets(): string[] {
  const out: string[] = [T1(), t1.imageSha256, t1.credentialName];
  for (const m of c.h.fleet.miners.filter(x => x.tenant === T1())) out.push(m.hostname, m.serialNumber, m.macAddress, m.uid);
  return out;
}

function leaksTenant1(text: string, sent: string): string | null {
  for (const s of tenant1Secrets()) if (text.includes(s) && !sent.includes(s)) return s;
  // Other tenant-1 miner ids than the one sent (e.g. "did you mean …" suggestions).
  for (const id of t1.miners) if (text.includes(id) && !sent.includes(id)) return id;
  return null;
}

// Tenant-1's miner ids; other values tenant-2's own (its firmware image), so only the ids are foreign.
const hints = (): Hints => ({ ids: t1.miners, sites: ['site-1', 'site-2'], extra: { image: [t2.imageSha256], sha256: [t2.imageSha256] } });

/** Valid bodies for a route from its schema, deterministic, with tenant-1's id aimed where an id goes. */
function bodiesFor(op: Operation): unknown[] {
  if (!op.body) return [undefined];
  return fc.sample(validOf(op.body, hints()), { seed: SEED, numRuns: 40 }).map(b => aimAtTenant1(b, op.body!));
}

/** Replace every id-like field with tenant-1's ids; a real write, not a dry run; no waiting. */
function aimAtTenant1(value: unknown, schema: JsonSchema): unknown {
  if (!value || typeof value !== 'object' || Array.isArray(value)) return value;
  const v = { ...(value as Record<string, unknown>) };
  // Tenant-1's named credentials where a route takes credentials (the id is then left as drawn:
  // a taken id would be refused before the credentials are looked at); else one miner by id
  // where the route takes one (and then no selector), else a selector of it.
  if (schema.properties?.credentials) v.credentials = t1.credentialName;
  else if (schema.properties?.id) {
    v.id = t1.miners[0];
    delete v.selector;
  } else if (schema.properties?.selector) {
    // a curtailment policy's selector has no ids (site and labels only; the tenant is the caller's)
    v.selector = (schema.properties.selector as JsonSchema).properties?.ids ? { ids: [t1.miners[0]] } : {};
  }
  if ('dry_run' in v || 'dryRun' in v) {
    delete v.dryRun;
    v.dry_run = false;
  }
  return v;
}

interface Probe {
  op: string;
  status: number;
  body: string;
  sent: string;
}

async function send(op: Operation, jwt: string, path: Record<string, string>, body: unknown, query: Record<string, string> = {}): Promise<Probe> {
  const qs = new URLSearchParams(query).toString();
  const url = `${c.base}${fillPath(op.path, path)}${qs ? `?${qs}` : ''}`;
  const r = await fetch(url, {
    method: op.method,
    headers: { authorization: `Bearer ${jwt}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(15_000),
  });
  return { op: op.key, status: r.status, body: await r.text(), sent: `${url} ${JSON.stringify(body) ?? ''}` };
}

describe('cross-tenant over REST, routes from the OpenAPI document', () => {
  it('derives a tenant-1 value for every id path parameter (fails by name for a new kind of id)', () => {
    const withIds = operationsOf(doc).filter(o => o.params.some(p => p.in === 'path'));
    expect(withIds.length).toBeGreaterThan(15);
    for (const op of withIds) for (const p of op.params.filter(x => x.in === 'path')) expect(() => tenant1Id(op.path, p.name)).not.toThrow();
    // The failure a new route would meet:
    expect(() => tenant1Id('/api/v1/widgets/{widget_id}', 'widget_id')).toThrow(/no tenant-1 value for path parameter \{widget_id\}/);
  });

  it("tenant-2's admin gets 404 for every route aimed at tenant-1's ids, and tenant-1's state does not change", async () => {
    const before = await tenant1State();
    const jwt = await c.token(T2(), 'admin');
    const problems: string[] = [];
    const checked: string[] = [];
    const created = new Set<string>();
    const ops = operationsOf(doc).filter(o => o.params.some(p => p.in === 'path'));
    // Upserts last: a tenant-2 object of the same name would answer the other routes of that name.
    ops.sort((a, b) => Number(UPSERT_BY_NAME.has(a.key)) - Number(UPSERT_BY_NAME.has(b.key)));
    for (const op of ops) {
      const path = Object.fromEntries(op.params.filter(p => p.in === 'path').map(p => [p.name, tenant1Id(op.path, p.name)]));
      let probe: Probe | null = null;
      // Bodies that fail validation (400) say nothing about tenancy: try the next valid-looking one.
      for (const body of bodiesFor(op)) {
        probe = await send(op, jwt, path, body);
        if (probe.status !== 400) break;
      }
      if (!probe) continue;
      checked.push(`${op.key} -> ${probe.status}`);
      const leak = leaksTenant1(probe.body, probe.sent);
      if (leak) problems.push(`${op.key}: answer reveals tenant-1's ${leak}: ${probe.body.slice(0, 300)}`);
      if (probe.status === 400) problems.push(`${op.key}: no valid body found from its schema (last: 400 ${probe.body.slice(0, 200)}); extend aimAtTenant1()`);
      else if (UPSERT_BY_NAME.has(op.key) && probe.status < 300) {
        created.add(op.key);
        continue;
      }
      else if (probe.status !== 404) problems.push(`${op.key}: expected 404, got ${probe.status}: ${probe.body.slice(0, 300)} (sent ${shortly(probe.sent)})`);
    }
    // What tenant-2 created of its own by name goes again, so later tests see tenant-1's names only.
    for (const op of ops.filter(o => created.has(o.key))) {
      const path = Object.fromEntries(op.params.filter(p => p.in === 'path').map(p => [p.name, tenant1Id(op.path, p.name)]));
      const r = await c.rest(T2(), 'admin', 'DELETE', fillPath(op.path, path));
      expect(r.status, `tenant-2 removing its own ${op.path}`).toBe(200);
    }
    console.log(`cross-tenant REST: ${checked.length} routes\n${checked.join('\n')}`);
    expect(problems).toEqual([]);
    expect(await tenant1State()).toEqual(before);
  }, 120_000);

  it("routes that take tenant-1's miner ids in the query or body: no data, no effect on tenant-1", async () => {
    const before = await tenant1State();
    const jwt = await c.token(T2(), 'admin');
    const problems: string[] = [];
    const checked: string[] = [];
    const ops = operationsOf(doc).filter(
      o => !o.params.some(p => p.in === 'path') && (queryIdParams(o).length > 0 || bodyIdFields(o).length > 0),
    );
    expect(ops.length).toBeGreaterThan(8);
    for (const op of ops) {
      let probe: Probe | null = null;
      for (const body of bodiesFor(op)) {
        const query = Object.fromEntries(queryIdParams(op).map(n => [n, t1.miners[0]!]));
        probe = await send(op, jwt, {}, body, query);
        if (probe.status !== 400 || refusedCredentials(probe)) break;
      }
      if (!probe) continue;
      checked.push(`${op.key} -> ${probe.status} ${probe.body.slice(0, 160)}`);
      const leak = leaksTenant1(probe.body, probe.sent);
      if (leak) problems.push(`${op.key}: answer reveals tenant-1's ${leak}: ${probe.body.slice(0, 300)}`);
      if (probe.status === 400 && !refusedCredentials(probe))
        problems.push(`${op.key}: no valid body found from its schema (last: 400 ${probe.body.slice(0, 200)}); extend aimAtTenant1()`);
      if (probe.status === 403) problems.push(`${op.key}: 403 confirms tenant-1's miner exists: ${probe.body.slice(0, 200)}`);
      if (bodyIdFields(op).includes('credentials') && probe.status < 300)
        problems.push(`${op.key}: accepted tenant-1's credentials '${t1.credentialName}': ${probe.status} ${probe.body.slice(0, 200)}`);
      if (probe.status >= 500) problems.push(`${op.key}: ${probe.status}: ${probe.body.slice(0, 200)}`);
    }
    console.log(`cross-tenant REST (ids in query/body): ${checked.length} routes\n${checked.join('\n')}`);
    expect(problems).toEqual([]);
    expect(await tenant1State()).toEqual(before);
  }, 120_000);
});

/** Tenant-2 naming tenant-1's credentials: refused as unknown in tenant-2's own namespace. */
const refusedCredentials = (p: Probe): boolean =>
  p.status === 400 && p.body.includes(`no credentials named '${t1.credentialName}'`);

/** Id-like names a route takes in its query or body (miner ids reach the services this way too). */
const ID_NAME = /^(id|ids|miner|miners|miner_id|selector|credentials)$/;
const queryIdParams = (op: Operation): string[] => op.params.filter(p => p.in === 'query' && ID_NAME.test(p.name)).map(p => p.name);
const bodyIdFields = (op: Operation): string[] => Object.keys(op.body?.properties ?? {}).filter(k => ID_NAME.test(k));

// ---- MCP ----

interface ToolInfo {
  name: string;
  inputSchema: JsonSchema;
}

/** Arguments that name a tenant's object. */
const TENANT_ARGS = new Set(['miner', 'miners', 'selector', 'id', 'confirm', 'image', 'credentials']);
/** Names that look like a tenant object's id; a tool taking one the suite does not fill fails the derivation. */
const ID_LIKE = /(^|_)(miner|job|schedule|rollout|image|credential)s?(_ids?)?$|(^|_)ids?$/;
/** Ids of things that are not a tenant's objects. */
const NOT_TENANT_IDS = new Set(['hashboard_ids', 'uid', 'signal_id']);

/** Tenant-1's value for an id-taking argument of a tool; throws for one the suite does not know. */
function tenant1Arg(tool: string, arg: string): unknown {
  if (arg === 'miner' || arg === 'confirm') return t1.miners[0];
  if (arg === 'miners') return [t1.miners[0]];
  if (arg === 'selector') return { ids: [t1.miners[0]] };
  if (arg === 'id' && /_job$/.test(tool)) return t1.jobId;
  if (arg === 'id' && /_schedule$/.test(tool)) return t1.scheduleId;
  if (arg === 'id' && tool === 'register_miner') return t1.miners[0];
  if (arg === 'image') return t1.imageSha256;
  if (arg === 'credentials') return t1.credentialName;
  if (arg === 'policy_id') return t1.energyPolicyId;
  throw new Error(`cross-tenant suite: no tenant-1 value for argument '${arg}' of MCP tool ${tool}; add it to tenant1Arg()`);
}

function idArgsOf(t: ToolInfo): string[] {
  return Object.keys(t.inputSchema.properties ?? {}).filter(a => TENANT_ARGS.has(a) || (ID_LIKE.test(a) && !NOT_TENANT_IDS.has(a)));
}

/** Candidate arguments: valid from the schema, tenant-1's ids where ids go, real writes held short. */
function argsFor(t: ToolInfo): Record<string, unknown>[] {
  const ids = idArgsOf(t);
  const props = t.inputSchema.properties ?? {};
  return fc.sample(validOf(t.inputSchema, hints()), { seed: SEED, numRuns: 40 }).map(v => {
    const a = { ...(v as Record<string, unknown>) };
    // miner and selector exclude each other: one miner when the tool takes one
    const aim = ids.includes('miner') ? ids.filter(x => x !== 'selector') : ids;
    if (ids.includes('miner')) delete a.selector;
    for (const arg of aim) a[arg] = tenant1Arg(t.name, arg);
    if ('dry_run' in props) a.dry_run = false;
    if ('wait_s' in props) a.wait_s = 0;
    if ('settle_s' in props) a.settle_s = 1;
    if ('sample_s' in props) a.sample_s = 2;
    return a;
  });
}

describe('cross-tenant over MCP, tools from tools/list', () => {
  it("tenant-2's admin gets not_found for every tool aimed at tenant-1's ids, and tenant-1's state does not change", async () => {
    const client = await c.mcp(T2(), 'admin');
    const tools = (await client.listTools()).tools as ToolInfo[];
    const withIds = tools.filter(t => idArgsOf(t).length > 0);
    expect(withIds.length).toBeGreaterThan(15);
    // Derivation first: a tool with an id argument the suite cannot fill fails here, by name.
    for (const t of withIds) for (const a of idArgsOf(t).filter(x => x !== 'selector' || !idArgsOf(t).includes('miner'))) tenant1Arg(t.name, a);
    expect(() => tenant1Arg('get_widget', 'widget_id')).toThrow(/no tenant-1 value for argument 'widget_id'/);

    const before = await tenant1State();
    const problems: string[] = [];
    const checked: string[] = [];
    for (const t of withIds) {
      let text = '';
      let isError = false;
      let sent = '';
      for (const args of argsFor(t)) {
        const r = (await client.callTool({ name: t.name, arguments: args }, { timeout: 15_000 })) as {
          isError?: boolean;
          content?: { text?: string }[];
          structuredContent?: unknown;
        };
        isError = r.isError === true;
        text = isError ? (r.content ?? []).map(x => x.text ?? '').join('\n') : JSON.stringify(r.structuredContent ?? r.content);
        sent = JSON.stringify(args);
        if (!(isError && /^(Input validation error|invalid_argument)/.test(text)) || /credentials/.test(text)) break;
      }
      const code = isError ? (/^([a-z_]+):/.exec(text)?.[1] ?? text.slice(0, 40)) : 'ok';
      checked.push(`${t.name} -> ${code} ${isError ? '' : text.slice(0, 120)}`);
      const leak = leaksTenant1(text, sent);
      if (leak) problems.push(`${t.name}: answer reveals tenant-1's ${leak}: ${text.slice(0, 300)}`);
      // One named object (a miner, a job, a schedule): not_found. A filter or a selector may
      // answer "nothing matched"; registering a taken id is a conflict that names no tenant.
      const named = idArgsOf(t).some(a => a === 'miner' || a === 'id' || a === 'image') && t.name !== 'register_miner' && t.name !== 'get_events';
      const usesCredentials = idArgsOf(t).includes('credentials');
      if (usesCredentials && !isError) problems.push(`${t.name}: ran with tenant-1's credentials '${t1.credentialName}': ${text.slice(0, 200)}`);
      else if (usesCredentials && /credentials/.test(text)) continue;
      if (/^(Input validation error|invalid_argument)/.test(text)) problems.push(`${t.name}: no valid arguments found from its schema (last: ${text.slice(0, 200)})`);
      else if (code === 'forbidden') problems.push(`${t.name}: forbidden confirms tenant-1's object exists: ${text.slice(0, 200)}`);
      else if (named && code !== 'not_found') problems.push(`${t.name}: expected not_found, got ${code}: ${text.slice(0, 300)} (args ${sent.slice(0, 300)})`);
    }
    console.log(`cross-tenant MCP: ${checked.length} tools\n${checked.join('\n')}`);
    expect(problems).toEqual([]);
    expect(await tenant1State()).toEqual(before);
  }, 120_000);
});

