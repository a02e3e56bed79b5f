import type { MinerJobResult } from '../jobs/types.ts';

/**
 * The one vocabulary of per-miner rollout outcomes: the same words in the job's per-miner
 * results (`outcome`), its progress (`outcomes`), its summary, its steps/events, REST and MCP.
 * docs/operations.md ("Firmware rollouts") says what each means and what to do next.
 */
export const ROLLOUT_OUTCOMES = [
  /** on the new version and past the health gate */
  'upgraded',
  /** already on the image's version when its turn came: nothing done */
  'skipped',
  /** cannot take this image (API older than 1.10, or another platform): never touched */
  'unsupported',
  /** could not be read before the upload: never touched */
  'unreachable',
  /** the miner refused the image: never touched */
  'upload_refused',
  /** rebooted but came back on another version than the image's */
  'wrong_version',
  /** back on the new version but its hashrate stayed below the gate */
  'unhealthy',
  /** did not come back within the per-miner timeout */
  'timeout',
  /** was changed, and is back on its previous version and healthy */
  'rolled_back',
  /** was changed; the rollback did not bring it back on its previous version healthy */
  'rollback_failed',
  /** not started: an earlier wave failed, or the rollout was cancelled first */
  'not_started',
  /** the rollout was cancelled while this miner was in progress */
  'cancelled',
] as const;
export type RolloutOutcome = (typeof ROLLOUT_OUTCOMES)[number];

/** Outcomes that fail the wave's gate (and halt the rollout). */
export const FAILED_OUTCOMES: ReadonlySet<RolloutOutcome> = new Set([
  'unsupported',
  'unreachable',
  'upload_refused',
  'wrong_version',
  'unhealthy',
  'timeout',
  'rolled_back',
  'rollback_failed',
]);

export function isRolloutOutcome(s: unknown): s is RolloutOutcome {
  return typeof s === 'string' && (ROLLOUT_OUTCOMES as readonly string[]).includes(s);
}

/** The generic job status a per-miner outcome maps to (shared job machinery and counters). */
export function statusOf(outcome: RolloutOutcome): MinerJobResult['status'] {
  switch (outcome) {
    case 'upgraded':
      return 'ok';
    case 'skipped':
      return 'skipped';
    case 'not_started':
    case 'cancelled':
      return 'cancelled';
    case 'rolled_back':
      return 'rolled_back';
    default:
      return 'failed';
  }
}

/** Count of every outcome word (zeros included), from per-miner outcomes. */
export function countOutcomes(outcomes: Iterable<RolloutOutcome>): Record<RolloutOutcome, number> {
  const c = Object.fromEntries(ROLLOUT_OUTCOMES.map(o => [o, 0])) as Record<RolloutOutcome, number>;
  for (const o of outcomes) c[o]++;
  return c;
}

/** "2 upload_refused, 1 wrong_version" for the non-zero failure counts. */
export function describeFailures(c: Record<RolloutOutcome, number>): string {
  return ROLLOUT_OUTCOMES.filter(o => FAILED_OUTCOMES.has(o) && c[o] > 0)
    .map(o => `${c[o]} ${o}`)
    .join(', ');
}
