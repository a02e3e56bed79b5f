import type { HealthStatus, MinerSample } from '../core/samples.ts';
import { deriveHealth, enumSuffix } from './normalize.ts';
import type { MinerTracker } from './poller.ts';

// What a poll outcome changes in a tracker's health. The collector applies it on the main thread,
// and a poll thread on its own copy of the tracker (the next poll normalises against it).

export function applyPolled(t: MinerTracker, sample: MinerSample): void {
  t.lastSample = sample;
  t.status = sample.status;
}

export function applyMissed(t: MinerTracker, offlineAfterMisses: number): void {
  if (t.failures >= offlineAfterMisses) t.status = 'offline';
}

/** A status pushed by the miner's stream: false when there is no sample to change yet. */
export function applyPushedStatus(t: MinerTracker, minerStatus: string): boolean {
  const s = t.lastSample;
  if (!s) return false;
  const ms = enumSuffix(minerStatus, 'MINER_STATUS_');
  // Paused or stopped: only overheating still explains a degraded state.
  const reasons = ms === 'normal' || ms === 'restricted' ? s.degraded_reasons : s.degraded_reasons.filter(r => r === 'overheating');
  const status: HealthStatus = deriveHealth(ms, reasons);
  t.lastSample = { ...s, miner_status: ms, status, degraded_reasons: reasons };
  t.status = status;
  return true;
}
