import type { JobData, JobOutcome, JobProgress, JobStep, MinerJobResult } from '../../services/jobs/types.ts';

/**
 * The durable job queue JobService runs on: jobs and their state, per-miner results, step
 * history, pause/cancel commands, sealed secrets, a worker that runs jobs with bounded
 * concurrency and picks up the jobs a stopped or dead process left running. The service owns handlers, sealing and audit; the
 * port only stores and schedules.
 */

/** Where a job is in the queue (the service derives the caller-facing JobStatus from it). */
export type QueueState = 'waiting' | 'active' | 'completed' | 'failed';
export type JobCommand = 'pause' | 'cancel';

export interface StoredJob {
  id: string;
  data: JobData;
  state: QueueState;
  progress: JobProgress | null;
  outcome: JobOutcome | null;
  failedReason: string | null;
  startedMs: number | null;
  finishedMs: number | null;
  attemptsStarted: number;
}

export interface EnqueueOptions {
  /** attempts of a job whose processor throws a retryable error */
  attempts: number;
  /** first retry delay; doubles with each attempt */
  backoffMs: number;
  /** how long the job, its results and steps are kept after it ends */
  retentionMs: number;
  /** already sealed by the service; stored apart from the job's data, dropped when the job ends */
  sealedSecrets?: string;
}

export interface WorkerOptions {
  concurrency: number;
  /** farm backend: a dead process's jobs are recovered after about this */
  lockDurationMs: number;
  stalledIntervalMs: number;
  /** times a job may be recovered from a stopped or dead worker before it fails */
  maxStalledCount: number;
}

/** One run of a job handed to the processor. */
export interface JobRun {
  readonly job: StoredJob;
  /** a retry, or a job recovered from a stopped or dead worker */
  readonly resumed: boolean;
  /** attempts that failed before this one */
  readonly attemptsMade: number;
  readonly maxAttempts: number;
  /** aborted when the queue itself takes the job away */
  readonly signal?: AbortSignal | undefined;
  updateProgress(p: JobProgress): Promise<void>;
  updateData(d: JobData): Promise<void>;
}

export type JobProcessor = (run: JobRun) => Promise<JobOutcome>;

/** Thrown by a processor: fail the job now, without retrying. */
export class PermanentJobError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PermanentJobError';
  }
}

/** Thrown by a processor: this process stops working on the job; `requeue` hands it to the next worker at once. */
export class JobHandBackError extends Error {
  readonly requeue: boolean;
  constructor(requeue: boolean) {
    super(requeue ? 'job handed back to the queue' : 'job left for recovery');
    this.name = 'JobHandBackError';
    this.requeue = requeue;
  }
}

/** What listeners see while jobs run in this process (the console streams it over SSE). */
export type JobEvent =
  | { kind: 'progress'; id: string; tenant: string; progress: JobProgress }
  | { kind: 'step'; id: string; tenant: string; step: JobStep };

export interface JobsPort {
  /** a second enqueue of the same id is a no-op (the first job stands) */
  enqueue(id: string, data: JobData, opts: EnqueueOptions): Promise<void>;
  get(id: string): Promise<StoredJob | null>;
  /** job ids of a tenant, newest first */
  listIds(tenant: string, offset: number, count: number): Promise<string[]>;
  countIds(tenant: string): Promise<number>;
  /** drops index entries of jobs created before `beforeMs` */
  pruneIndex(tenant: string, beforeMs: number): Promise<void>;
  /** drops one index entry (its job is gone) */
  unindex(tenant: string, id: string): Promise<void>;

  /** Runs jobs with `processor` in this process until stopWorker; resumes waiting and interrupted ones. */
  startWorker(opts: WorkerOptions, processor: JobProcessor): Promise<void>;
  /** `force`: do not wait for running jobs; they are recovered by the next worker as if this process had died. */
  stopWorker(opts: { force: boolean }): Promise<void>;
  readonly isWorkerRunning: boolean;

  getCommand(id: string): Promise<JobCommand | null>;
  setCommand(id: string, command: JobCommand | null, ttlMs: number): Promise<void>;

  results(id: string): Promise<Map<string, MinerJobResult>>;
  setResult(id: string, r: MinerJobResult): Promise<void>;

  appendStep(id: string, tenant: string, step: Omit<JobStep, 'id'>, maxSteps: number): Promise<JobStep>;
  /** steps after `afterId` (exclusive; undefined: from the start), oldest first */
  steps(id: string, afterId: string | undefined, limit: number): Promise<JobStep[]>;
  stepCount(id: string): Promise<number>;

  sealedSecrets(id: string): Promise<string | null>;
  /** the job ended: drop its secrets and command; keep results and steps for `retentionMs` */
  release(id: string, retentionMs: number): Promise<void>;

  /** progress and steps written in this process; returns the unsubscribe function */
  subscribe(listener: (e: JobEvent) => void): () => void;

  /** stops the worker and closes the queue; the store's close() calls it */
  close(): Promise<void>;
}
