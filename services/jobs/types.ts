import type { FleetErrorCode } from '../../core/errors.ts';
import type { Caller } from '../context.ts';

/** The kinds of durable jobs; the BullMQ job name is the type. */
export const JOB_TYPES = ['batch-control', 'firmware-rollout'] as const;
export type JobType = (typeof JOB_TYPES)[number];

/**
 * What a caller sees of a job's state. `queued`/`running`/`paused`/`cancelling` are live;
 * the rest are final. `halted` is a rollout stopped by a failed health gate;
 * `partially_failed` is a batch where some miners failed and others succeeded.
 */
export const JOB_STATUSES = [
  'queued',
  'running',
  'paused',
  'cancelling',
  'succeeded',
  'partially_failed',
  'failed',
  'cancelled',
  'halted',
] as const;
export type JobStatus = (typeof JOB_STATUSES)[number];
export const FINAL_STATUSES: readonly JobStatus[] = [
  'succeeded',
  'partially_failed',
  'failed',
  'cancelled',
  'halted',
];

/** What a handler returns; kept by BullMQ as the job's return value. */
export interface JobOutcome {
  outcome: 'succeeded' | 'partially_failed' | 'failed' | 'cancelled' | 'halted';
  /** one sentence for people */
  message: string;
  summary: Record<string, number | string | boolean>;
}

/** Live counters, shown while a job runs (BullMQ progress). */
export interface JobProgress {
  total: number;
  done: number;
  ok: number;
  failed: number;
  invalid: number;
  skipped: number;
  cancelled: number;
  /** free-form phase name (rollouts: canary, wave 2/4, rollback ...) */
  phase?: string;
  /** rollouts: count of each per-miner outcome word (services/rollouts/outcomes.ts) */
  outcomes?: Record<string, number>;
}

/** The envelope every job's BullMQ data carries. Secrets never go here (see JobService.enqueue). */
export interface JobData<P = unknown> {
  v: 1;
  type: JobType;
  caller: Caller;
  /** short human label: "pause on 120 miners" */
  label: string;
  created_ms: number;
  miners_total: number;
  payload: P;
  has_secrets: boolean;
}

/** Per-miner record of a job (result of a control action, or a rollout miner's state). */
export interface MinerJobResult {
  id: string;
  site: string;
  status:
    | 'pending'
    | 'running'
    | 'would_apply'
    | 'ok'
    | 'failed'
    | 'invalid'
    | 'skipped'
    | 'cancelled'
    | 'rolled_back';
  code?: FleetErrorCode;
  /** rollouts: the miner's outcome word (services/rollouts/outcomes.ts); `status` is its generic class */
  outcome?: string;
  message?: string;
  /** what changed: field -> [before, after] */
  changes?: {
    field: string;
    current: string | number | boolean | null;
    new: string | number | boolean | null;
  }[];
  started_ms?: number;
  finished_ms?: number;
  /** job-type specific details (rollouts: phase, versions, images) */
  data?: Record<string, string | number | boolean | null>;
}

/** One step of a job's history (the SSE stream and GET /jobs/:id/steps). */
export interface JobStep {
  /** stream id, usable as SSE Last-Event-ID */
  id: string;
  time_ms: number;
  kind: 'job' | 'wave' | 'miner' | 'gate' | 'rollback';
  message: string;
  status?: string;
  miner?: string;
  site?: string;
  code?: FleetErrorCode;
  data?: Record<string, string | number | boolean | null>;
}

export type StepInput = Omit<JobStep, 'id' | 'time_ms'> & { time_ms?: number };

export interface JobSummary {
  id: string;
  type: JobType;
  status: JobStatus;
  label: string;
  created_by: string;
  created_ms: number;
  started_ms: number | null;
  finished_ms: number | null;
  miners_total: number;
  progress: JobProgress | null;
  message: string | null;
}

export interface JobDetail extends JobSummary {
  /** the job's request, with any secret replaced by a marker */
  payload: unknown;
  outcome: JobOutcome | null;
  error: string | null;
  attempts: number;
  results: MinerJobResult[];
  results_total: number;
  results_truncated: boolean;
}

export interface JobListQuery {
  status?: JobStatus;
  type?: JobType;
  /** @defaultValue 50 */
  limit?: number;
}
