import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FleetError } from '../../core/errors.ts';
import { silentLogger } from '../../runtime/logger.ts';
import type { ApiInfra, Caller } from '../../services/context.ts';
import { JobService, type JobContext, type JobServiceOptions } from '../../services/jobs/job-service.ts';
import type { JobData } from '../../services/jobs/types.ts';
import type { JobEvent } from '../../store/ports/jobs.ts';
import { testConfig } from '../api/app/helpers.ts';
import { BACKENDS, openTestStore, type TestStore } from './backends.ts';

// The jobs port under JobService, on both backends: what a batch needs to be safe on real
// miners (per-miner results, never acting twice on a miner after a restart, cancel, pause,
// bounded concurrency) and that a job's secrets are sealed wherever the backend keeps them.

const operator: Caller = { sub: 'op', tenant: 'acme', roles: ['operator'] };
const keyDir = fs.mkdtempSync(path.join(os.tmpdir(), 'bosfleet-jobs-contract-'));
const PASSWORD = 'pool-pass-Qw93-never-at-rest';

afterAll(() => fs.rmSync(keyDir, { recursive: true, force: true }));

async function waitFor<T>(what: string, check: () => T | Promise<T>, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise(r => setTimeout(r, 25));
  }
}

/** A fake batch: miners are acted on one by one; a held miner waits (abortably) until released. */
interface Fleet {
  acted: string[];
  held: Set<string>;
  active: number;
  maxActive: number;
}

const newFleet = (): Fleet => ({ acted: [], held: new Set(), active: 0, maxActive: 0 });

async function batch(fleet: Fleet, ctx: JobContext<{ miners: string[] }>) {
  fleet.active++;
  fleet.maxActive = Math.max(fleet.maxActive, fleet.active);
  try {
    const done = await ctx.results();
    const miners = ctx.payload.miners;
    let ok = [...done.values()].filter(r => r.status === 'ok').length;
    for (const id of miners) {
      if (done.get(id)?.status === 'ok') continue;
      while (fleet.held.has(id)) {
        await ctx.checkpoint();
        await new Promise(r => setTimeout(r, 10));
      }
      await ctx.checkpoint();
      fleet.acted.push(id);
      await ctx.setResult({ id, site: 's1', status: 'ok', finished_ms: Date.now() });
      ok++;
      await ctx.progress({ total: miners.length, done: ok, ok, failed: 0, invalid: 0, skipped: 0, cancelled: 0 });
    }
    return { outcome: 'succeeded' as const, message: `${ok} miner(s) done`, summary: { ok } };
  } finally {
    fleet.active--;
  }
}

describe.each(BACKENDS)('jobs port on %s', backend => {
  let store: TestStore;
  let services: JobService[];

  beforeEach(async () => {
    store = await ready(await openTestStore(backend));
    services = [];
  });

  afterEach(async () => {
    for (const s of services) await s.close({ force: true }).catch(() => undefined);
    await store.destroy();
  });

  function service(fleet: Fleet, opts: JobServiceOptions = {}): JobService {
    const infra = {
      config: testConfig({ BOSFLEET_SECRET_KEY_FILE: path.join(keyDir, 'secret.key') }),
      log: silentLogger(),
      store,
    } as unknown as ApiInfra;
    const jobs = new JobService(infra, { record: async () => undefined }, {
      commandPollMs: 20,
      progressIntervalMs: 0,
      lockDurationMs: 1_000,
      stalledIntervalMs: 500,
      ...opts,
    });
    jobs.register<{ miners: string[] }>('batch-control', ctx => batch(fleet, ctx));
    services.push(jobs);
    return jobs;
  }

  const enqueue = (jobs: JobService, miners: string[], secrets?: unknown) =>
    jobs.enqueue(operator, 'batch-control', {
      label: `act on ${miners.length}`,
      payload: { miners },
      minersTotal: miners.length,
      ...(secrets !== undefined ? { secrets } : {}),
    });

  it('runs a job to completion with per-miner results, and reports progress to listeners', async () => {
    const fleet = newFleet();
    const jobs = service(fleet);
    const events: JobEvent[] = [];
    const stop = jobs.subscribe(operator, e => events.push(e));
    const other: JobEvent[] = [];
    const stopOther = jobs.subscribe({ ...operator, tenant: 'other' }, e => other.push(e));
    await jobs.start();
    const job = await enqueue(jobs, ['m1', 'm2', 'm3']);
    const done = await jobs.waitUntilFinished(operator, job.id, 20_000);
    stop();
    stopOther();
    expect(done.status).toBe('succeeded');
    expect(done.progress).toMatchObject({ total: 3, done: 3, ok: 3 });
    const detail = await jobs.get(operator, job.id);
    expect(detail.results.map(r => [r.id, r.status])).toEqual([
      ['m1', 'ok'],
      ['m2', 'ok'],
      ['m3', 'ok'],
    ]);
    expect(fleet.acted).toEqual(['m1', 'm2', 'm3']);
    const progress = events.filter(e => e.kind === 'progress').map(e => (e.kind === 'progress' ? e.progress.done : -1));
    expect(progress).toEqual([1, 2, 3]);
    expect(events.some(e => e.kind === 'step' && e.step.status === 'succeeded')).toBe(true);
    expect(other).toEqual([]);
    const { steps } = await jobs.steps(operator, job.id);
    expect(steps.map(s => s.status)).toEqual(['queued', 'running', 'succeeded']);
    // Steps page from an id: the API's SSE resumes from Last-Event-ID this way.
    expect((await jobs.steps(operator, job.id, { afterId: steps[0]!.id })).steps.map(s => s.status)).toEqual(['running', 'succeeded']);
    expect((await jobs.list(operator)).items.map(s => s.id)).toEqual([job.id]);
    await expect(jobs.get({ ...operator, tenant: 'other' }, job.id)).rejects.toMatchObject({ code: 'not_found' });
  });

  it('cancel stops the job: miners not yet started are not acted on', async () => {
    const fleet = newFleet();
    fleet.held.add('m2');
    const jobs = service(fleet);
    await jobs.start();
    const job = await enqueue(jobs, ['m1', 'm2', 'm3']);
    await waitFor('m1 done', () => fleet.acted.includes('m1'));
    expect((await jobs.cancel(operator, job.id)).status).toBe('cancelling');
    const done = await jobs.waitUntilFinished(operator, job.id, 20_000);
    expect(done.status).toBe('cancelled');
    expect(fleet.acted).toEqual(['m1']);
    await expect(jobs.cancel(operator, job.id)).rejects.toMatchObject({ code: 'conflict' });
  });

  it('pause holds new miners until resume', async () => {
    const fleet = newFleet();
    fleet.held.add('m2');
    const jobs = service(fleet);
    await jobs.start();
    const job = await enqueue(jobs, ['m1', 'm2', 'm3']);
    await waitFor('m1 done', () => fleet.acted.includes('m1'));
    expect((await jobs.pause(operator, job.id)).status).toBe('paused');
    await waitFor('paused step', async () => (await jobs.steps(operator, job.id)).steps.some(s => s.status === 'paused'));
    fleet.held.clear();
    expect(fleet.acted).toEqual(['m1']);
    expect((await jobs.get(operator, job.id)).status).toBe('paused');
    await jobs.resume(operator, job.id);
    expect((await jobs.waitUntilFinished(operator, job.id, 20_000)).status).toBe('succeeded');
    expect(fleet.acted).toEqual(['m1', 'm2', 'm3']);
  });

  it.each(['graceful', 'crash'] as const)(
    'a %s restart mid-job (close, reopen, new worker) finishes it without acting twice on a miner',
    async how => {
      const fleet = newFleet();
      fleet.held.add('m3');
      const first = service(fleet);
      await first.start();
      const job = await enqueue(first, ['m1', 'm2', 'm3', 'm4']);
      await waitFor('m1 and m2 done', () => fleet.acted.length === 2);
      await first.close({ force: how === 'crash' });
      await store.close();
      store = await ready(await store.reopen());
      fleet.held.clear();
      const second = service(fleet);
      await second.start();
      const done = await second.waitUntilFinished(operator, job.id, 30_000);
      expect(done.status).toBe('succeeded');
      expect(fleet.acted).toEqual(['m1', 'm2', 'm3', 'm4']);
      const detail = await second.get(operator, job.id);
      expect(detail.results.filter(r => r.status === 'ok')).toHaveLength(4);
      const { steps } = await second.steps(operator, job.id);
      expect(steps.some(s => s.message.startsWith('resumed after a restart'))).toBe(true);
    },
  );

  it('runs at most workerConcurrency jobs at once', async () => {
    const fleet = newFleet();
    for (let i = 0; i < 5; i++) fleet.held.add(`j${i}`);
    const jobs = service(fleet, { workerConcurrency: 2 });
    await jobs.start();
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push((await enqueue(jobs, [`j${i}`])).id);
    await waitFor('two jobs running', () => fleet.active === 2);
    const statuses = (await jobs.list(operator)).items.map(s => s.status);
    expect(statuses.filter(s => s === 'running')).toHaveLength(2);
    expect(statuses.filter(s => s === 'queued')).toHaveLength(3);
    fleet.held.clear();
    for (const id of ids) expect((await jobs.waitUntilFinished(operator, id, 20_000)).status).toBe('succeeded');
    expect(fleet.maxActive).toBe(2);
  });

  it('keeps a job secret sealed at rest, gives it to the handler, and drops it when the job ends', async () => {
    const fleet = newFleet();
    const jobs = service(fleet);
    const seen: unknown[] = [];
    jobs.register<{ miners: string[] }>('batch-control', async ctx => {
      seen.push(await ctx.secrets());
      return batch(fleet, ctx);
    });
    const job = await enqueue(jobs, ['m1'], { password: PASSWORD });
    const atRest = await rawStorage(store);
    expect(atRest).toContain('sealed:');
    expect(atRest).not.toContain(PASSWORD);
    await jobs.start();
    expect((await jobs.waitUntilFinished(operator, job.id, 20_000)).status).toBe('succeeded');
    expect(seen).toEqual([{ password: PASSWORD }]);
    expect(await store.jobs.sealedSecrets(job.id)).toBeNull();
    expect(await rawStorage(store)).not.toContain(PASSWORD);
  });

  it('retries a transient failure from the stored results, and fails a permanent one at once', async () => {
    const fleet = newFleet();
    const jobs = service(fleet, { attempts: 3, retryBackoffMs: 50 });
    let failures = 0;
    jobs.register<{ miners: string[]; fail: string }>('batch-control', async ctx => {
      if (ctx.payload.fail === 'permanent') throw new FleetError('invalid_argument', 'no such pool');
      const whole = ctx as unknown as JobContext<{ miners: string[] }>;
      if (failures++ === 0) {
        // The first attempt acts on the first miner, then loses the connection.
        await batch(fleet, { ...whole, payload: { miners: ctx.payload.miners.slice(0, 1) } });
        throw new Error('miner connection reset');
      }
      return batch(fleet, whole);
    });
    await jobs.start();
    const transient = await jobs.enqueue(operator, 'batch-control', { label: 't', payload: { miners: ['m1', 'm2'], fail: 'transient' }, minersTotal: 2 });
    expect((await jobs.waitUntilFinished(operator, transient.id, 20_000)).status).toBe('succeeded');
    expect(fleet.acted).toEqual(['m1', 'm2']);
    const detail = await jobs.get(operator, transient.id);
    expect(detail.attempts).toBe(2);
    expect((await jobs.steps(operator, transient.id)).steps.map(s => s.status)).toContain('retrying');
    const permanent = await jobs.enqueue(operator, 'batch-control', { label: 'p', payload: { miners: ['m3'], fail: 'permanent' }, minersTotal: 1 });
    const failed = await jobs.waitUntilFinished(operator, permanent.id, 20_000);
    expect(failed).toMatchObject({ status: 'failed', message: 'no such pool' });
    expect((await jobs.get(operator, permanent.id)).attempts).toBe(1);
  });

  it('enqueues a job id once: a repeated enqueue leaves the first job as it is', async () => {
    const data = (label: string): JobData => ({
      v: 1,
      type: 'batch-control',
      caller: operator,
      label,
      created_ms: Date.now(),
      miners_total: 1,
      payload: { miners: ['m1'] },
      has_secrets: false,
    });
    const opts = { attempts: 1, backoffMs: 1_000, retentionMs: 60_000 };
    await store.jobs.enqueue('job-1', data('first'), opts);
    await store.jobs.enqueue('job-1', data('second'), opts);
    expect((await store.jobs.get('job-1'))?.data.label).toBe('first');
    expect(await store.jobs.countIds(operator.tenant)).toBe(1);
    expect(await store.jobs.listIds(operator.tenant, 0, 10)).toEqual(['job-1']);
  });

  it('caches a value until its TTL passes or it is deleted', async () => {
    await store.cache.set(['constraints', 'm1'], 'c1', 60_000);
    await store.cache.set(['constraints', 'm2'], 'c2', 50);
    expect(await store.cache.get(['constraints', 'm1'])).toBe('c1');
    await waitFor('m2 expired', async () => (await store.cache.get(['constraints', 'm2'])) === null, 5_000);
    await store.cache.del(['constraints', 'm1']);
    expect(await store.cache.get(['constraints', 'm1'])).toBeNull();
  });
});

/** The farm store's Redis refuses commands until connected (no offline queue): wait for it as the API does at start. */
async function ready(s: TestStore): Promise<TestStore> {
  if (s.backend === 'influx-redis') await waitFor('Redis connected', () => s.redis.status === 'ready', 10_000);
  return s;
}

/** Everything the backend keeps, as text: the SQLite file and its WAL, or every Redis string, hash and stream of the test's prefix. */
async function rawStorage(store: TestStore): Promise<string> {
  if (store.backend === 'embedded') {
    const file = store.database.file;
    return [file, `${file}-wal`]
      .filter(f => fs.existsSync(f))
      .map(f => fs.readFileSync(f).toString('latin1'))
      .join('\n');
  }
  const keys = await store.redis.keys(`${store.keys.prefix}:*`);
  const parts: string[] = [];
  for (const k of keys) {
    const type = await store.redis.type(k);
    if (type === 'string') parts.push((await store.redis.get(k)) ?? '');
    else if (type === 'hash') parts.push(JSON.stringify(await store.redis.hgetall(k)));
    else if (type === 'stream') parts.push(JSON.stringify(await store.redis.xrange(k, '-', '+')));
    else if (type === 'list') parts.push(JSON.stringify(await store.redis.lrange(k, 0, -1)));
  }
  return parts.join('\n');
}
