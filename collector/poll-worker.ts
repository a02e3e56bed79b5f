// A poll thread (collector/poll-threads.ts): the PollScheduler over the miners the main thread
// gives it, with its own gRPC clients. It writes nothing: outcomes go to the main thread in
// batches, which owns the stores. Credentials and device identity are asked of the main thread.
import { parentPort, workerData } from 'node:worker_threads';
import { createLogger } from '../runtime/logger.ts';
import type { MinerCredentials } from './miner-client.ts';
import type { CollectorMetrics } from './metrics.ts';
import { MinerClientPool } from './miner-client-pool.ts';
import type { MinerTracker } from './poller.ts';
import type { FromThread, MetricCall, PollThreadInit, ThreadItem, ToThread, TrackerFields } from './poll-threads.ts';
import { PollScheduler, type PollSink } from './scheduler.ts';
import { applyMissed, applyPolled, applyPushedStatus } from './tracker-updates.ts';

const port = parentPort!;
const init = workerData as PollThreadInit;
const log = createLogger({ level: init.logLevel, name: 'collector-poll-thread' });

let items: ThreadItem[] = [];
let metricCalls: MetricCall[] = [];
let flushTimer: NodeJS.Timeout | null = null;
// Batches bound the messages to ~40/s per thread whatever the poll rate.
const BATCH_MS = 25;

function flush(): void {
  flushTimer = null;
  if (items.length === 0 && metricCalls.length === 0) return;
  port.postMessage({ t: 'batch', items, metrics: metricCalls } satisfies FromThread);
  items = [];
  metricCalls = [];
}
function send(item: ThreadItem): void {
  items.push(item);
  flushTimer ??= setTimeout(flush, BATCH_MS);
}

/** Metric calls recorded here and replayed on the main thread's registry. */
const recorder = (name: string) => ({
  inc: (...a: unknown[]) => void metricCalls.push([name, 'inc', ...a]),
  set: (...a: unknown[]) => void metricCalls.push([name, 'set', ...a]),
  observe: (...a: unknown[]) => void metricCalls.push([name, 'observe', ...a]),
});
const metrics = new Proxy({} as Record<string, ReturnType<typeof recorder>>, {
  get: (cache, name: string) => (cache[name] ??= recorder(name)),
}) as unknown as CollectorMetrics;

let nextCall = 0;
const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
function call<T>(msg: { fn: 'credentials'; name: string } | { fn: 'admit'; miner: string; details: NonNullable<MinerTracker['details']> }): Promise<T> {
  const id = nextCall++;
  return new Promise<T>((resolve, reject) => {
    pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
    port.postMessage({ t: 'call', id, ...msg } as FromThread);
  });
}

const fields = (t: MinerTracker): TrackerFields => ({ failures: t.failures, lastSeenMs: t.lastSeenMs, lastPollMs: t.lastPollMs, lastError: t.lastError, minerStatus: t.minerStatus });

const sink: PollSink = {
  polled(t, outcome) {
    applyPolled(t, outcome.result.sample);
    send({ k: 'polled', id: t.ref.id, f: fields(t), sample: outcome.result.sample, issues: outcome.result.issues, ...(outcome.detailsRefreshed && t.details ? { details: t.details } : {}), durationMs: outcome.durationMs });
  },
  missed(t, outcome, timeMs) {
    applyMissed(t, init.scheduler.offlineAfterMisses);
    send({ k: 'missed', id: t.ref.id, f: fields(t), timeMs, reason: outcome?.reason ?? null, rpc: outcome?.rpc ?? 'none' });
  },
  statusPushed(t, minerStatus) {
    if (!applyPushedStatus(t, minerStatus)) return;
    send({ k: 'status', id: t.ref.id, f: fields(t), minerStatus });
  },
  cycle(_trackers, stats) {
    send({ k: 'cycle', polls: stats.polls, durationMs: stats.durationMs, lagMs: stats.lagMs });
  },
};

const pool = new MinerClientPool({ resolve: (name: string) => call<MinerCredentials>({ fn: 'credentials', name }) }, { timeoutMs: init.rpcTimeoutMs });
// The leases' validity (collector/leases/): a process whose renewals stalled stops starting polls.
const gate = new Float64Array(init.gate);
const scheduler = new PollScheduler({
  ...init.scheduler,
  mayPoll: () => Date.now() < gate[0]!,
  pool,
  sink,
  ...(init.admit ? { admit: (t: MinerTracker) => (t.details ? call<boolean>({ fn: 'admit', miner: t.ref.id, details: t.details }) : Promise.resolve(true)) } : {}),
  metrics,
  log,
});

port.on('message', (m: ToThread) => {
  if (m.t === 'inventory') scheduler.setInventory(m.miners);
  else if (m.t === 'start') scheduler.start();
  else if (m.t === 'reply') {
    const p = pending.get(m.id);
    pending.delete(m.id);
    if (m.error !== undefined) p?.reject(new Error(m.error));
    else p?.resolve(m.value);
  } else if (m.t === 'stop') {
    void scheduler.stop().finally(() => {
      pool.closeAll();
      if (flushTimer) clearTimeout(flushTimer);
      flush();
      port.postMessage({ t: 'stopped' } satisfies FromThread);
    });
  }
});
