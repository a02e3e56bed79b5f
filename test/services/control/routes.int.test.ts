import { influxRedisStoreOver } from '../../../store/influx-redis/index.ts';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../../api/app.ts';
import type { Caller } from '../../../services/context.ts';
import { controlRoutePlugins } from '../../../services/control/index.ts';
import { FleetQuery } from '../../../services/query/fleet-query.ts';
import { FleetError } from '../../../core/errors.ts';
import { buildFirmwareImage, FIRMWARE_PREVIOUS } from '../../../simulator/index.ts';
import { startHarness, type Harness } from './harness.ts';

// The control half's REST routes on the real app (api/app.ts: auth hook, error mapping, zod
// validation, rate limits) over the real services. Tokens are checked by a stand-in verifier
// that maps fixed token strings to callers (JWT verification itself is tested with the query half).
let h: Harness;
let app: FastifyInstance;

const TOKENS: Record<string, (tenant: string) => Caller> = {
  'viewer.t.x': tenant => ({ sub: 'v@example.com', tenant, roles: ['viewer'] }),
  'operator.t.x': tenant => ({ sub: 'op@example.com', tenant, roles: ['operator'] }),
  'admin.t.x': tenant => ({ sub: 'admin@example.com', tenant, roles: ['admin'] }),
  'other.t.x': () => ({ sub: 'x@example.com', tenant: 'other-tenant', roles: ['admin'] }),
};
const auth = (token: keyof typeof TOKENS): Record<string, string> => ({ authorization: `Bearer ${token}` });

beforeAll(async () => {
  h = await startHarness({ sim: { miners: 4, sites: 2, seed: 66, firmware: FIRMWARE_PREVIOUS } });
  const fleetQuery = new FleetQuery({ store: influxRedisStoreOver({ redis: h.redis, keys: h.keys, influx: h.influx }), log: h.infra.log });
  app = await buildApp({
    infra: { ...h.infra, config: { ...h.infra.config, AUTH_MODE: 'jwt' } },
    fleetQuery,
    extraRoutes: controlRoutePlugins(h.plane, { sse: { pollMs: 50, heartbeatMs: 1_000 } }),
    verifyToken: async token => {
      const make = TOKENS[token];
      if (!make)
        throw new FleetError('unauthenticated', 'unknown test token', { details: { reason: 'signature' } });
      return make(h.tenant);
    },
  });
  await app.ready();
}, 60_000);

afterAll(async () => {
  await app?.close();
  await h?.close();
});

describe('control routes', () => {
  it('needs the operator role', async () => {
    const r = await app.inject({
      method: 'POST',
      url: '/api/v1/control/actions',
      headers: auth('viewer.t.x'),
      payload: { selector: { site: 'site-1' }, action: 'pause' },
    });
    expect(r.statusCode).toBe(403);
    expect(r.json().error).toMatchObject({ code: 'forbidden' });
    const anon = await app.inject({
      method: 'POST',
      url: '/api/v1/control/actions',
      payload: { selector: { site: 'site-1' }, action: 'pause' },
    });
    expect(anon.statusCode).toBe(401);
  });

  it('rejects unknown keys with a 400 naming them', async () => {
    const r = await app.inject({
      method: 'POST',
      url: '/api/v1/control/power-target',
      headers: auth('operator.t.x'),
      payload: { selector: { site: 'site-1' }, watt: 3000, wat: 1, dry_run: true },
    });
    expect(r.statusCode).toBe(400);
    expect(r.json().error.code).toBe('invalid_argument');
    expect(r.json().error.message).toContain('wat');
    const both = await app.inject({
      method: 'POST',
      url: '/api/v1/control/power-target',
      headers: auth('operator.t.x'),
      payload: { id: h.fleet.miners[0]!.id, selector: { site: 'site-1' }, watt: 3000 },
    });
    expect(both.statusCode).toBe(400);
    expect(both.json().error.message).toMatch(/selector or id/);
    const nested = await app.inject({
      method: 'POST',
      url: '/api/v1/control/actions',
      headers: auth('operator.t.x'),
      payload: { selector: { site: 'site-1', rack: 'r1' }, action: 'pause' },
    });
    expect(nested.statusCode).toBe(400);
    expect(nested.json().error.message).toContain('rack');
  });

  it('one miner: a dry run answers 200 with the plan; a real action 200 with its result', async () => {
    const id = h.fleet.miners[0]!.id;
    const dry = await app.inject({
      method: 'POST',
      url: `/api/v1/miners/${id}/actions`,
      headers: auth('operator.t.x'),
      payload: { action: 'pause', dry_run: true },
    });
    expect(dry.statusCode).toBe(200);
    expect(dry.json()).toMatchObject({ mode: 'dry_run', matched: 1, counts: { would_apply: 1 } });
    expect(h.fleet.truth(id).status).toBe('MINER_STATUS_NORMAL');
    const real = await app.inject({
      method: 'POST',
      url: `/api/v1/miners/${id}/actions`,
      headers: auth('operator.t.x'),
      payload: { action: 'locate_on' },
    });
    expect(real.statusCode).toBe(200);
    expect(real.json().miners[0]).toMatchObject({ id, status: 'ok' });
    const other = await app.inject({
      method: 'POST',
      url: `/api/v1/miners/${id}/actions`,
      headers: auth('other.t.x'),
      payload: { action: 'pause' },
    });
    expect(other.statusCode).toBe(404);
  });

  it('a batch answers 202 with the job; the job, its steps and its SSE stream are readable', async () => {
    const r = await app.inject({
      method: 'POST',
      url: '/api/v1/control/actions',
      headers: auth('operator.t.x'),
      payload: { selector: { site: 'site-2' }, action: 'locate_on' },
    });
    expect(r.statusCode).toBe(202);
    const jobId = r.json().job.id as string;
    // The stream replays history and ends by itself once the job has finished.
    const sse = await app.inject({
      method: 'GET',
      url: `/api/v1/jobs/${jobId}/events`,
      headers: auth('viewer.t.x'),
    });
    expect(sse.statusCode).toBe(200);
    expect(sse.headers['content-type']).toMatch(/^text\/event-stream/);
    const events = sse.body.split('\n\n').filter(b => b.includes('event:'));
    expect(events.filter(e => e.includes('event: step')).length).toBeGreaterThan(2);
    expect(events.at(-1)).toContain('event: end');
    expect(events.at(-1)).toContain('"status":"succeeded"');
    const firstId = /id: (\S+)/.exec(events[0]!)![1]!;
    const resumed = await app.inject({
      method: 'GET',
      url: `/api/v1/jobs/${jobId}/events`,
      headers: { ...auth('viewer.t.x'), 'last-event-id': firstId },
    });
    expect(resumed.body).not.toContain(`id: ${firstId}\n`);
    const job = await app.inject({
      method: 'GET',
      url: `/api/v1/jobs/${jobId}`,
      headers: auth('viewer.t.x'),
    });
    expect(job.statusCode).toBe(200);
    expect(job.json()).toMatchObject({ id: jobId, status: 'succeeded', type: 'batch-control' });
    const list = await app.inject({
      method: 'GET',
      url: '/api/v1/jobs?limit=5',
      headers: auth('viewer.t.x'),
    });
    expect(list.json().items.map((j: { id: string }) => j.id)).toContain(jobId);
    const hidden = await app.inject({
      method: 'GET',
      url: `/api/v1/jobs/${jobId}`,
      headers: auth('other.t.x'),
    });
    expect(hidden.statusCode).toBe(404);
    const cancel = await app.inject({
      method: 'POST',
      url: `/api/v1/jobs/${jobId}/cancel`,
      headers: auth('viewer.t.x'),
    });
    expect(cancel.statusCode).toBe(403);
    const late = await app.inject({
      method: 'POST',
      url: `/api/v1/jobs/${jobId}/cancel`,
      headers: auth('operator.t.x'),
    });
    expect(late.statusCode).toBe(409);
  });

  it('streams steps over real HTTP as they happen and ends with the job', async () => {
    for (const m of h.fleet.miners) h.fleet.injectFault(m.id, { kind: 'slow', delay_ms: 700 });
    const address = await app.listen({ port: 0, host: '127.0.0.1' });
    try {
      const r = await app.inject({
        method: 'POST',
        url: '/api/v1/control/actions',
        headers: auth('operator.t.x'),
        payload: { selector: { all: true }, action: 'locate_off' },
      });
      const res = await fetch(`${address}/api/v1/jobs/${r.json().job.id}/events`, {
        headers: auth('viewer.t.x'),
      });
      expect(res.status).toBe(200);
      const reader = res.body!.getReader();
      const decoder = new TextDecoder();
      const arrivals: { at: number; text: string }[] = [];
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        arrivals.push({ at: Date.now(), text: decoder.decode(value) });
      }
      const all = arrivals.map(a => a.text).join('');
      expect(all).toContain('event: end');
      // Steps arrived in several chunks over time, not all at once at the end.
      const stepChunks = arrivals.filter(a => a.text.includes('event: step'));
      expect(stepChunks.length).toBeGreaterThan(1);
      expect(stepChunks.at(-1)!.at - stepChunks[0]!.at).toBeGreaterThan(300);
    } finally {
      for (const m of h.fleet.miners) h.fleet.clearFault(m.id);
    }
  });

  it('never echoes pool passwords', async () => {
    const r = await app.inject({
      method: 'PUT',
      url: '/api/v1/control/pools',
      headers: auth('operator.t.x'),
      payload: {
        id: h.fleet.miners[1]!.id,
        op: 'replace',
        groups: [
          {
            name: 'g',
            pools: [{ url: 'stratum+tcp://p.example.com:3333', user: 'w', password: 's3cr3t-pw' }],
          },
        ],
      },
    });
    expect(r.statusCode).toBe(200);
    expect(r.body).not.toContain('s3cr3t-pw');
    expect(r.json().request.groups[0].pools[0].password).toBe('[redacted]');
    const wrongOp = await app.inject({
      method: 'PUT',
      url: '/api/v1/control/pools',
      headers: auth('operator.t.x'),
      payload: { id: h.fleet.miners[1]!.id, op: 'remove', groups: [] },
    });
    expect(wrongOp.statusCode).toBe(400);
  });
});

describe('firmware, schedules and inventory routes', () => {
  it('uploads an image as a raw body (admin), lists it and plans a rollout', async () => {
    const version = '2026-06-01-0-1a2b3c4d-26.06-plus';
    const body = buildFirmwareImage({ version });
    const asOperator = await app.inject({
      method: 'POST',
      url: `/api/v1/firmware/images?name=fw.img&version=${version}`,
      headers: { ...auth('operator.t.x'), 'content-type': 'application/octet-stream' },
      payload: body,
    });
    expect(asOperator.statusCode).toBe(403);
    const up = await app.inject({
      method: 'POST',
      url: `/api/v1/firmware/images?name=fw.img&version=${version}`,
      headers: { ...auth('admin.t.x'), 'content-type': 'application/octet-stream' },
      payload: body,
    });
    expect(up.statusCode).toBe(201);
    const sha = up.json().image.sha256 as string;
    expect(up.json().image).toMatchObject({ version, size_bytes: body.length });
    const list = await app.inject({
      method: 'GET',
      url: '/api/v1/firmware/images',
      headers: auth('operator.t.x'),
    });
    expect(list.json().items.map((i: { sha256: string }) => i.sha256)).toEqual([sha]);
    const plan = await app.inject({
      method: 'POST',
      url: '/api/v1/firmware/rollouts',
      headers: auth('operator.t.x'),
      payload: { image: sha, selector: { all: true }, canary_size: 1, wave_size: 2, dry_run: true },
    });
    expect(plan.statusCode).toBe(200);
    expect(plan.json().waves.map((w: { miners: unknown[] }) => w.miners.length)).toEqual([1, 2, 1]);
    // The version may be left out when the image states it (same bytes: already stored).
    const noVersion = await app.inject({
      method: 'POST',
      url: '/api/v1/firmware/images?name=fw.img',
      headers: { ...auth('admin.t.x'), 'content-type': 'application/octet-stream' },
      payload: body,
    });
    expect(noVersion.statusCode, noVersion.body).toBe(200);
    const typo = '2026-06-01-0-1a2b3c4d-26.07-plus';
    const mismatch = await app.inject({
      method: 'POST',
      url: `/api/v1/firmware/images?name=fw.img&version=${typo}`,
      headers: { ...auth('admin.t.x'), 'content-type': 'application/octet-stream' },
      payload: buildFirmwareImage({ version, sizeBytes: 5_000 }),
    });
    expect(mismatch.statusCode).toBe(400);
    expect(mismatch.body).toContain(typo);
    expect(mismatch.body).toContain(version);
    const noise = await app.inject({
      method: 'POST',
      url: `/api/v1/firmware/images?name=noise.img&version=${version}`,
      headers: { ...auth('admin.t.x'), 'content-type': 'application/octet-stream' },
      payload: Buffer.alloc(100_000, 0x5a),
    });
    expect(noise.statusCode).toBe(400);
    expect(noise.body).toMatch(/not a firmware image/);
  });

  it('creates, lists and deletes schedules', async () => {
    const bad = await app.inject({
      method: 'POST',
      url: '/api/v1/schedules',
      headers: auth('operator.t.x'),
      payload: {
        name: 'x',
        selector: { all: true },
        cron: 'nope nope',
        duration_ms: 1000,
        action: { type: 'pause' },
      },
    });
    expect(bad.statusCode).toBe(400);
    const ok = await app.inject({
      method: 'POST',
      url: '/api/v1/schedules',
      headers: auth('operator.t.x'),
      payload: {
        name: 'peak',
        selector: { site: 'site-1' },
        cron: '0 17 * * 1-5',
        duration_ms: 3_600_000,
        action: { type: 'pause' },
      },
    });
    expect(ok.statusCode).toBe(201);
    const list = await app.inject({ method: 'GET', url: '/api/v1/schedules', headers: auth('viewer.t.x') });
    expect(list.json().total).toBe(1);
    const del = await app.inject({
      method: 'DELETE',
      url: `/api/v1/schedules/${ok.json().id}`,
      headers: auth('operator.t.x'),
    });
    expect(del.statusCode).toBe(200);
  });

  it('inventory needs admin and never returns passwords', async () => {
    const op = await app.inject({
      method: 'GET',
      url: '/api/v1/inventory/miners',
      headers: auth('operator.t.x'),
    });
    expect(op.statusCode).toBe(403);
    const list = await app.inject({
      method: 'GET',
      url: '/api/v1/inventory/miners',
      headers: auth('admin.t.x'),
    });
    expect(list.statusCode).toBe(200);
    expect(list.json().total).toBe(4);
    const put = await app.inject({
      method: 'PUT',
      url: '/api/v1/inventory/credentials/rack-7',
      headers: auth('admin.t.x'),
      payload: { username: 'root', password: 'pa55-rack-7' },
    });
    expect(put.statusCode).toBe(200);
    expect(put.body).not.toContain('pa55-rack-7');
    const creds = await app.inject({
      method: 'GET',
      url: '/api/v1/inventory/credentials',
      headers: auth('admin.t.x'),
    });
    expect(creds.body).not.toContain('pa55-rack-7');
    expect(creds.json().items).toEqual(
      expect.arrayContaining([{ name: 'rack-7', username: 'root', scope: 'tenant' }]),
    );
    const add = await app.inject({
      method: 'POST',
      url: '/api/v1/inventory/miners',
      headers: auth('admin.t.x'),
      payload: { address: '10.9.9.9', site: 'site-1', credentials: 'rack-7', tenant: 'x' },
    });
    expect(add.statusCode).toBe(400);
    expect(add.json().error.message).toContain('tenant');
    const scan = await app.inject({
      method: 'POST',
      url: '/api/v1/inventory/scans',
      headers: auth('admin.t.x'),
      payload: { cidr: '10.9.0.0/24', site: 'site-1', credentials: 'rack-7' },
    });
    expect(scan.statusCode).toBe(202);
  });
});
