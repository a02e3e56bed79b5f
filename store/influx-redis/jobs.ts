import { EventEmitter } from 'node:events';
import { Queue, UnrecoverableError, WaitingError, Worker, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import { FleetError } from '../../core/errors.ts';
import type { Logger } from '../../runtime/logger.ts';
import type { JobData, JobOutcome, JobProgress, JobStep, MinerJobResult } from '../../services/jobs/types.ts';
import {
  JobHandBackError,
  PermanentJobError,
  type EnqueueOptions,
  type JobCommand,
  type JobEvent,
  type JobProcessor,
  type JobsPort,
  type QueueState,
  type StoredJob,
  type WorkerOptions,
} from '../ports/jobs.ts';
import type { RedisKeys } from './redis-keys.ts';

/**
 * Jobs on BullMQ in the shared Redis (queue prefix `<prefix>:bull`, one queue `jobs`, the job
 * name is its type), so every API replica enqueues, works on and answers for the same jobs.
 *
 * Around BullMQ, per job (keys.custom('job', id, part)):
 *  - `results`: HASH miner id -> JSON MinerJobResult, written as each miner finishes;
 *  - `steps`: STREAM of JobStep (capped), the history behind GET /jobs/:id/events;
 *  - `command`: STRING pause | cancel, set by any replica, polled by the one running the job;
 *  - `secrets`: STRING, sealed by the service, deleted when the job ends;
 * and per tenant keys.custom('job', 'index', tenant): ZSET job id by creation time.
 *
 * A dead process's job is recovered by BullMQ's stalled-job check once its lock expires.
 */
export class RedisJobs implements JobsPort {
  private readonly redis: Redis;
  private readonly keys: RedisKeys;
  private readonly log: Logger | undefined;
  private readonly events = new EventEmitter();
  private queueConn: Redis | null = null;
  private workerConn: Redis | null = null;
  private queue: Queue<JobData, JobOutcome> | null = null;
  private worker: Worker<JobData, JobOutcome> | null = null;

  constructor(redis: Redis, keys: RedisKeys, log?: Logger) {
    this.redis = redis;
    this.keys = keys;
    this.log = log;
    this.events.setMaxListeners(0);
  }

  private key(id: string, part: string): string {
    return this.keys.custom('job', id, part);
  }

  private indexKey(tenant: string): string {
    return this.keys.custom('job', 'index', tenant);
  }

  private async r<T>(fn: (r: Redis) => Promise<T>): Promise<T> {
    try {
      return await fn(this.redis);
    } catch (err) {
      throw new FleetError('unavailable', 'Redis is not available', { cause: err });
    }
  }

  private connection(name: string): Redis {
    // BullMQ needs commands that wait (no per-request retry limit, an offline queue, no command timeout).
    const conn = this.redis.duplicate({
      maxRetriesPerRequest: null,
      enableOfflineQueue: true,
      commandTimeout: undefined,
      connectionName: name,
      lazyConnect: false,
    });
    conn.on('error', () => undefined);
    return conn;
  }

  private q(): Queue<JobData, JobOutcome> {
    if (!this.queue) {
      this.queueConn = this.connection('bosfleet-jobs-queue');
      this.queue = new Queue<JobData, JobOutcome>('jobs', { connection: this.queueConn, prefix: this.keys.custom('bull') });
      this.queue.on('error', err => this.log?.warn({ err: err.message }, 'job queue error'));
    }
    return this.queue;
  }

  async enqueue(id: string, data: JobData, opts: EnqueueOptions): Promise<void> {
    if (opts.sealedSecrets !== undefined) {
      const sealed = opts.sealedSecrets;
      await this.r(r => r.set(this.key(id, 'secrets'), sealed, 'PX', opts.retentionMs));
    }
    const age = Math.ceil(opts.retentionMs / 1000);
    try {
      await this.q().add(data.type, data, {
        jobId: id,
        attempts: opts.attempts,
        backoff: { type: 'exponential', delay: opts.backoffMs },
        removeOnComplete: { age },
        removeOnFail: { age },
      });
    } catch (err) {
      throw new FleetError('unavailable', 'Redis is not available', { cause: err });
    }
    await this.r(r => r.zadd(this.indexKey(data.caller.tenant), data.created_ms, id));
  }

  async get(id: string): Promise<StoredJob | null> {
    let job: Job<JobData, JobOutcome> | undefined;
    let state: string;
    try {
      job = await this.q().getJob(id);
      if (!job) return null;
      state = await job.getState();
    } catch (err) {
      throw new FleetError('unavailable', 'Redis is not available', { cause: err });
    }
    if ((state === 'completed' || state === 'failed') && !job.finishedOn) {
      // `job` was read before it finished (getJob, then getState): without its return value a
      // halted job would read as succeeded. BullMQ writes both at once, so read it again.
      job = (await this.q().getJob(id).catch(() => undefined)) ?? job;
    }
    const queueState: QueueState = state === 'completed' || state === 'failed' || state === 'active' ? state : 'waiting';
    return stored(job, queueState);
  }

  listIds(tenant: string, offset: number, count: number): Promise<string[]> {
    return this.r(r => r.zrevrange(this.indexKey(tenant), offset, offset + count - 1));
  }

  countIds(tenant: string): Promise<number> {
    return this.r(r => r.zcard(this.indexKey(tenant)));
  }

  async pruneIndex(tenant: string, beforeMs: number): Promise<void> {
    await this.r(r => r.zremrangebyscore(this.indexKey(tenant), '-inf', String(beforeMs)));
  }

  async unindex(tenant: string, id: string): Promise<void> {
    await this.redis.zrem(this.indexKey(tenant), id).catch(() => undefined);
  }

  async startWorker(opts: WorkerOptions, processor: JobProcessor): Promise<void> {
    await this.q().waitUntilReady();
    if (this.worker) return;
    this.workerConn = this.connection('bosfleet-jobs-worker');
    const worker = new Worker<JobData, JobOutcome>('jobs', (job, token, signal) => this.process(processor, job, token, signal), {
      connection: this.workerConn,
      prefix: this.keys.custom('bull'),
      concurrency: opts.concurrency,
      lockDuration: opts.lockDurationMs,
      stalledInterval: opts.stalledIntervalMs,
      maxStalledCount: opts.maxStalledCount,
      autorun: false,
    });
    this.worker = worker;
    worker.on('error', err => this.log?.warn({ err: err.message }, 'job worker error'));
    worker.on('failed', (job, err) => {
      if (job) this.log?.warn({ job: job.id, type: job.name, err: err.message }, 'job failed');
    });
    void worker.run().catch(err => this.log?.error({ err: (err as Error).message }, 'job worker stopped'));
    await worker.waitUntilReady();
  }

  private async process(
    processor: JobProcessor,
    job: Job<JobData, JobOutcome>,
    token: string | undefined,
    signal: AbortSignal | undefined,
  ): Promise<JobOutcome> {
    const tenant = job.data.caller.tenant;
    try {
      return await processor({
        job: stored(job, 'active'),
        resumed: job.attemptsStarted > 1 || job.stalledCounter > 0,
        attemptsMade: job.attemptsMade,
        maxAttempts: job.opts.attempts ?? 1,
        signal,
        updateProgress: async (p: JobProgress) => {
          await job.updateProgress(p as unknown as object).catch(() => undefined);
          this.events.emit('job', { kind: 'progress', id: job.id!, tenant, progress: p } satisfies JobEvent);
        },
        updateData: async (d: JobData) => {
          await job.updateData(d);
        },
      });
    } catch (err) {
      if (err instanceof JobHandBackError) {
        if (err.requeue) await job.moveToWait(token).catch(() => undefined);
        throw new WaitingError();
      }
      if (err instanceof PermanentJobError) throw new UnrecoverableError(err.message);
      throw err;
    }
  }

  async stopWorker(opts: { force: boolean }): Promise<void> {
    const worker = this.worker;
    this.worker = null;
    if (worker) await worker.close(opts.force);
    await this.queue?.close().catch(() => undefined);
    this.queue = null;
    for (const c of [this.workerConn, this.queueConn]) c?.disconnect();
    this.workerConn = null;
    this.queueConn = null;
  }

  get isWorkerRunning(): boolean {
    return this.worker !== null;
  }

  async getCommand(id: string): Promise<JobCommand | null> {
    const v = await this.r(r => r.get(this.key(id, 'command')));
    return v === 'pause' || v === 'cancel' ? v : null;
  }

  async setCommand(id: string, command: JobCommand | null, ttlMs: number): Promise<void> {
    if (command === null) await this.r(r => r.del(this.key(id, 'command')));
    else await this.r(r => r.set(this.key(id, 'command'), command, 'PX', ttlMs));
  }

  async results(id: string): Promise<Map<string, MinerJobResult>> {
    const all = await this.r(r => r.hgetall(this.key(id, 'results')));
    return new Map(Object.entries(all).map(([k, v]) => [k, JSON.parse(v) as MinerJobResult]));
  }

  async setResult(id: string, result: MinerJobResult): Promise<void> {
    await this.r(r => r.hset(this.key(id, 'results'), result.id, JSON.stringify(result)));
  }

  async appendStep(id: string, tenant: string, step: Omit<JobStep, 'id'>, maxSteps: number): Promise<JobStep> {
    const sid = await this.r(r => r.xadd(this.key(id, 'steps'), 'MAXLEN', '~', String(maxSteps), '*', 'step', JSON.stringify(step)));
    const out: JobStep = { id: sid ?? '', ...step };
    this.events.emit('job', { kind: 'step', id, tenant, step: out } satisfies JobEvent);
    return out;
  }

  async steps(id: string, afterId: string | undefined, limit: number): Promise<JobStep[]> {
    const start = afterId && afterId !== '0' ? `(${afterId}` : '-';
    const entries = await this.r(r => r.xrange(this.key(id, 'steps'), start, '+', 'COUNT', limit));
    return entries.map(([sid, fields]) => {
      const at = fields.indexOf('step');
      return { id: sid, ...(JSON.parse(fields[at + 1] ?? '{}') as Omit<JobStep, 'id'>) };
    });
  }

  stepCount(id: string): Promise<number> {
    return this.r(r => r.xlen(this.key(id, 'steps')));
  }

  sealedSecrets(id: string): Promise<string | null> {
    return this.r(r => r.get(this.key(id, 'secrets')));
  }

  async release(id: string, retentionMs: number): Promise<void> {
    const p = this.redis.pipeline();
    p.del(this.key(id, 'secrets'), this.key(id, 'command'));
    for (const part of ['results', 'steps']) p.pexpire(this.key(id, part), retentionMs);
    await p.exec().catch(() => undefined);
  }

  subscribe(listener: (e: JobEvent) => void): () => void {
    this.events.on('job', listener);
    return () => this.events.off('job', listener);
  }

  close(): Promise<void> {
    return this.stopWorker({ force: true });
  }
}

function stored(job: Job<JobData, JobOutcome>, state: QueueState): StoredJob {
  return {
    id: job.id!,
    data: job.data,
    state,
    progress: job.progress && typeof job.progress === 'object' ? (job.progress as unknown as JobProgress) : null,
    outcome: (job.returnvalue ?? null) as JobOutcome | null,
    failedReason: job.failedReason || null,
    startedMs: job.processedOn ?? null,
    finishedMs: job.finishedOn ?? null,
    attemptsStarted: job.attemptsStarted,
  };
}
