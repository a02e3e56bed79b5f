import type { Logger } from '../../runtime/logger.ts';
import type { FleetEvent } from '../../core/samples.ts';

/**
 * Where control actions and job steps are recorded: the store's events port (store/ports/events.ts)
 * satisfies this. Services take the narrow interface so tests and read-only sessions can pass
 * their own.
 */
export interface AuditLog {
  record(events: readonly FleetEvent[]): Promise<void>;
}

/**
 * Buffers events and writes them in batches (a 10,000-miner batch makes 10,000 events). A
 * failed write is logged and never fails the control action that produced the events: the
 * miner has already been changed, and the job's own per-miner results keep the record.
 */
export class AuditBuffer {
  private readonly log: AuditLog;
  private readonly logger: Logger;
  private pending: FleetEvent[] = [];
  private readonly maxBatch: number;

  constructor(log: AuditLog, logger: Logger, maxBatch = 200) {
    this.log = log;
    this.logger = logger;
    this.maxBatch = maxBatch;
  }

  async add(event: FleetEvent): Promise<void> {
    this.pending.push(event);
    if (this.pending.length >= this.maxBatch) await this.flush();
  }

  async flush(): Promise<void> {
    if (this.pending.length === 0) return;
    const events = this.pending;
    this.pending = [];
    await recordSafely(this.log, this.logger, events);
  }
}

export async function recordSafely(
  log: AuditLog,
  logger: Logger,
  events: readonly FleetEvent[],
): Promise<void> {
  if (events.length === 0) return;
  try {
    await log.record(events);
  } catch (err) {
    logger.warn(
      { err: (err as Error).message, events: events.length },
      'audit events could not be fully recorded',
    );
  }
}
