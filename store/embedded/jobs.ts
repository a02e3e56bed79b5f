import { EventEmitter } from 'node:events';
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
import type { EmbeddedDatabase } from './database.ts';

/**
 * Jobs in the embedded SQLite file, worked on by an in-process loop. One process owns the data
 * folder, so a job found `active` when the worker starts was interrupted (stop or crash) and goes
 * back to waiting; per-miner results are rows, written as each miner finishes, so the resumed
 * run skips the miners already done.
 */
const MIGRATIONS = [
  `CREATE TABLE jobs (
     id TEXT PRIMARY KEY,
     tenant TEXT NOT NULL,
     data TEXT NOT NULL,
     state TEXT NOT NULL,
     created_ms INTEGER NOT NULL,
     available_ms INTEGER NOT NULL,
     progress TEXT,
     outcome TEXT,
     failed_reason TEXT,
     started_ms INTEGER,
     finished_ms INTEGER,
     expires_ms INTEGER,
     attempts INTEGER NOT NULL,
     backoff_ms INTEGER NOT NULL,
     retention_ms INTEGER NOT NULL,
     attempts_started INTEGER NOT NULL DEFAULT 0,
     attempts_made INTEGER NOT NULL DEFAULT 0,
     stalled_count INTEGER NOT NULL DEFAULT 0,
     command TEXT,
     secrets TEXT
   );
   CREATE INDEX jobs_by_tenant ON jobs (tenant, created_ms);
   CREATE INDEX jobs_by_state ON jobs (state, available_ms);
   CREATE TABLE job_results (
     job_id TEXT NOT NULL, miner_id TEXT NOT NULL, result TEXT NOT NULL,
     PRIMARY KEY (job_id, miner_id)
   ) WITHOUT ROWID;
   CREATE TABLE job_steps (seq INTEGER PRIMARY KEY AUTOINCREMENT, job_id TEXT NOT NULL, step TEXT NOT NULL);
   CREATE INDEX job_steps_by_job ON job_steps (job_id, seq);`,
];

/** How often the loop looks for retries whose backoff has passed. */
const POLL_MS = 250;
/** Steps are trimmed to the cap every this many appends. */
const TRIM_EVERY = 100;

interface JobRow {
  id: string;
  data: string;
  state: QueueState;
  progress: string | null;
  outcome: string | null;
  failed_reason: string | null;
  started_ms: number | null;
  finished_ms: number | null;
  attempts: number;
  backoff_ms: number;
  retention_ms: number;
  attempts_started: number;
  attempts_made: number;
  stalled_count: number;
}

interface Worker {
  opts: WorkerOptions;
  processor: JobProcessor;
  running: Map<string, Promise<void>>;
  timer: NodeJS.Timeout;
  stopping: boolean;
}

export class SqliteJobs implements JobsPort {
  private readonly database: EmbeddedDatabase;
  private readonly log: Logger | undefined;
  private readonly events = new EventEmitter();
  private worker: Worker | null = null;
  private appends = 0;

  constructor(database: EmbeddedDatabase, log?: Logger) {
    this.database = database;
    this.log = log;
    this.events.setMaxListeners(0);
    database.migrate('jobs', MIGRATIONS);
  }

  private sql(query: string): ReturnType<EmbeddedDatabase['db']['prepare']> {
    if (!this.database.isOpen) throw new FleetError('unavailable', 'the embedded store is closed');
    return this.database.db.prepare(query);
  }

  async enqueue(id: string, data: JobData, opts: EnqueueOptions): Promise<void> {
    this.sql(
      `INSERT INTO jobs (id, tenant, data, state, created_ms, available_ms, attempts, backoff_ms, retention_ms, secrets)
       VALUES (?, ?, ?, 'waiting', ?, ?, ?, ?, ?, ?)
       ON CONFLICT (id) DO NOTHING`,
    ).run(id, data.caller.tenant, JSON.stringify(data), data.created_ms, data.created_ms, opts.attempts, opts.backoffMs, opts.retentionMs, opts.sealedSecrets ?? null);
    setImmediate(() => this.pump());
  }

  private row(id: string): JobRow | undefined {
    return this.sql('SELECT * FROM jobs WHERE id = ?').get(id) as JobRow | undefined;
  }

  async get(id: string): Promise<StoredJob | null> {
    const row = this.row(id);
    return row ? stored(row) : null;
  }

  async listIds(tenant: string, offset: number, count: number): Promise<string[]> {
    const rows = this.sql('SELECT id FROM jobs WHERE tenant = ? ORDER BY created_ms DESC, rowid DESC LIMIT ? OFFSET ?').all(tenant, count, offset) as { id: string }[];
    return rows.map(r => r.id);
  }

  async countIds(tenant: string): Promise<number> {
    return (this.sql('SELECT COUNT(*) AS n FROM jobs WHERE tenant = ?').get(tenant) as { n: number }).n;
  }

  /** Drops ended jobs past their retention (and those created before `beforeMs`), with their results and steps. */
  async pruneIndex(tenant: string, beforeMs: number): Promise<void> {
    this.database.transaction(() => {
      const gone = this.sql(
        `SELECT id FROM jobs WHERE tenant = ? AND state IN ('completed', 'failed') AND (created_ms < ? OR expires_ms < ?)`,
      ).all(tenant, beforeMs, Date.now()) as { id: string }[];
      for (const { id } of gone) this.forget(id);
    });
  }

  private forget(id: string): void {
    this.sql('DELETE FROM job_results WHERE job_id = ?').run(id);
    this.sql('DELETE FROM job_steps WHERE job_id = ?').run(id);
    this.sql('DELETE FROM jobs WHERE id = ?').run(id);
  }

  async unindex(): Promise<void> {
    // The jobs table is the index: a job that is gone has no entry.
  }

  // ---- the worker loop ----

  async startWorker(opts: WorkerOptions, processor: JobProcessor): Promise<void> {
    if (this.worker) return;
    // This process owns the folder: whatever is still `active` was interrupted.
    this.database.transaction(() => {
      this.sql(`UPDATE jobs SET state = 'waiting', stalled_count = stalled_count + 1, available_ms = ? WHERE state = 'active'`).run(Date.now());
      this.sql(
        `UPDATE jobs SET state = 'failed', failed_reason = 'job stalled more than allowable limit', finished_ms = ?1, expires_ms = ?1 + retention_ms, secrets = NULL, command = NULL
         WHERE state = 'waiting' AND stalled_count > ?2`,
      ).run(Date.now(), opts.maxStalledCount);
    });
    const timer = setInterval(() => this.pump(), POLL_MS);
    timer.unref();
    this.worker = { opts, processor, running: new Map(), timer, stopping: false };
    this.pump();
  }

  async stopWorker(opts: { force: boolean }): Promise<void> {
    const w = this.worker;
    if (!w) return;
    w.stopping = true;
    clearInterval(w.timer);
    this.worker = null;
    // Forced: as if the process died; the interrupted jobs stay `active` until the next start.
    if (!opts.force) await Promise.allSettled([...w.running.values()]);
  }

  get isWorkerRunning(): boolean {
    return this.worker !== null;
  }

  private pump(): void {
    const w = this.worker;
    if (!w || w.stopping || !this.database.isOpen) return;
    try {
      while (w.running.size < w.opts.concurrency) {
        const row = this.claim();
        if (!row) break;
        const run = this.run(w, row).finally(() => {
          w.running.delete(row.id);
          setImmediate(() => this.pump());
        });
        w.running.set(row.id, run);
      }
    } catch (err) {
      this.log?.warn({ err: (err as Error).message }, 'embedded job worker could not claim a job; retried');
    }
  }

  private claim(): JobRow | undefined {
    return this.database.transaction(() => {
      const next = this.sql(`SELECT id FROM jobs WHERE state = 'waiting' AND available_ms <= ? ORDER BY created_ms, rowid LIMIT 1`).get(Date.now()) as
        | { id: string }
        | undefined;
      if (!next) return undefined;
      this.sql(`UPDATE jobs SET state = 'active', attempts_started = attempts_started + 1, started_ms = ? WHERE id = ?`).run(Date.now(), next.id);
      return this.row(next.id);
    });
  }

  private async run(w: Worker, row: JobRow): Promise<void> {
    const id = row.id;
    const data = JSON.parse(row.data) as JobData;
    // Once the worker was stopped this run no longer owns the job: its ending is not written.
    const owned = (): boolean => this.worker === w && this.database.isOpen;
    let outcome: JobOutcome;
    try {
      outcome = await w.processor({
        job: stored(row),
        resumed: row.attempts_started > 1 || row.stalled_count > 0,
        attemptsMade: row.attempts_made,
        maxAttempts: row.attempts,
        updateProgress: async (p: JobProgress) => {
          this.sql('UPDATE jobs SET progress = ? WHERE id = ?').run(JSON.stringify(p), id);
          this.events.emit('job', { kind: 'progress', id, tenant: data.caller.tenant, progress: p } satisfies JobEvent);
        },
        updateData: async (d: JobData) => {
          this.sql('UPDATE jobs SET data = ? WHERE id = ?').run(JSON.stringify(d), id);
        },
      });
    } catch (err) {
      if (err instanceof JobHandBackError) {
        // Not when a newer worker has started meanwhile: it may be running the job again already.
        if (err.requeue && this.database.isOpen && (this.worker === null || this.worker === w)) this.sql(`UPDATE jobs SET state = 'waiting', available_ms = ? WHERE id = ?`).run(Date.now(), id);
        return;
      }
      if (!owned()) return;
      const made = row.attempts_made + 1;
      const message = (err as Error).message;
      if (err instanceof PermanentJobError || made >= row.attempts) {
        const now = Date.now();
        this.sql(`UPDATE jobs SET state = 'failed', failed_reason = ?, attempts_made = ?, finished_ms = ?, expires_ms = ? WHERE id = ?`).run(
          message,
          made,
          now,
          now + row.retention_ms,
          id,
        );
        this.log?.warn({ job: id, type: data.type, err: message }, 'job failed');
      } else {
        const delay = row.backoff_ms * 2 ** (made - 1);
        this.sql(`UPDATE jobs SET state = 'waiting', attempts_made = ?, available_ms = ? WHERE id = ?`).run(made, Date.now() + delay, id);
      }
      return;
    }
    if (!owned()) return;
    const now = Date.now();
    this.sql(`UPDATE jobs SET state = 'completed', outcome = ?, finished_ms = ?, expires_ms = ? WHERE id = ?`).run(JSON.stringify(outcome), now, now + row.retention_ms, id);
  }

  // ---- per-job state ----

  async getCommand(id: string): Promise<JobCommand | null> {
    const row = this.sql('SELECT command FROM jobs WHERE id = ?').get(id) as { command: string | null } | undefined;
    return row?.command === 'pause' || row?.command === 'cancel' ? row.command : null;
  }

  async setCommand(id: string, command: JobCommand | null): Promise<void> {
    this.sql('UPDATE jobs SET command = ? WHERE id = ?').run(command, id);
  }

  async results(id: string): Promise<Map<string, MinerJobResult>> {
    const rows = this.sql('SELECT miner_id, result FROM job_results WHERE job_id = ?').all(id) as { miner_id: string; result: string }[];
    return new Map(rows.map(r => [r.miner_id, JSON.parse(r.result) as MinerJobResult]));
  }

  async setResult(id: string, result: MinerJobResult): Promise<void> {
    this.sql(
      'INSERT INTO job_results (job_id, miner_id, result) VALUES (?, ?, ?) ON CONFLICT (job_id, miner_id) DO UPDATE SET result = excluded.result',
    ).run(id, result.id, JSON.stringify(result));
  }

  async appendStep(id: string, tenant: string, step: Omit<JobStep, 'id'>, maxSteps: number): Promise<JobStep> {
    const r = this.sql('INSERT INTO job_steps (job_id, step) VALUES (?, ?)').run(id, JSON.stringify(step));
    const seq = Number(r.lastInsertRowid);
    if (++this.appends % TRIM_EVERY === 0) {
      this.sql('DELETE FROM job_steps WHERE job_id = ? AND seq <= ?').run(id, seq - maxSteps);
    }
    // Shaped like a Redis stream id, which the API's Last-Event-ID check expects.
    const out: JobStep = { id: `${seq}-0`, ...step };
    this.events.emit('job', { kind: 'step', id, tenant, step: out } satisfies JobEvent);
    return out;
  }

  async steps(id: string, afterId: string | undefined, limit: number): Promise<JobStep[]> {
    const after = afterId ? Number.parseInt(afterId, 10) || 0 : 0;
    const rows = this.sql('SELECT seq, step FROM job_steps WHERE job_id = ? AND seq > ? ORDER BY seq LIMIT ?').all(id, after, limit) as {
      seq: number;
      step: string;
    }[];
    return rows.map(r => ({ id: `${r.seq}-0`, ...(JSON.parse(r.step) as Omit<JobStep, 'id'>) }));
  }

  async stepCount(id: string): Promise<number> {
    return (this.sql('SELECT COUNT(*) AS n FROM job_steps WHERE job_id = ?').get(id) as { n: number }).n;
  }

  async sealedSecrets(id: string): Promise<string | null> {
    const row = this.sql('SELECT secrets FROM jobs WHERE id = ?').get(id) as { secrets: string | null } | undefined;
    return row?.secrets ?? null;
  }

  async release(id: string): Promise<void> {
    this.sql('UPDATE jobs SET secrets = NULL, command = NULL WHERE id = ?').run(id);
  }

  subscribe(listener: (e: JobEvent) => void): () => void {
    this.events.on('job', listener);
    return () => this.events.off('job', listener);
  }

  async close(): Promise<void> {
    await this.stopWorker({ force: true });
  }
}

function stored(row: JobRow): StoredJob {
  return {
    id: row.id,
    data: JSON.parse(row.data) as JobData,
    state: row.state,
    progress: row.progress ? (JSON.parse(row.progress) as JobProgress) : null,
    outcome: row.outcome ? (JSON.parse(row.outcome) as JobOutcome) : null,
    failedReason: row.failed_reason,
    startedMs: row.started_ms,
    finishedMs: row.finished_ms,
    attemptsStarted: row.attempts_started,
  };
}
