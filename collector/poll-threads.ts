import { Worker } from 'node:worker_threads';
import { FleetError } from '../core/errors.ts';
import type { MinerDetailsInfo, MinerSample } from '../core/samples.ts';
import type { CredentialStore } from './credentials.ts';
import type { InventoryMiner } from './inventory/schema.ts';
import type { MinerFailureCode } from '../core/errors.ts';
import { MinerTracker } from './poller.ts';
import { PollScheduler, type CycleStats, type SchedulerOptions } from './scheduler.ts';

/** What the collector needs of whatever polls its miners (one thread or several). */
export interface MinerPoller {
  readonly trackers: Map<string, MinerTracker>;
  readonly offlineAfterMisses: number;
  setInventory(miners: InventoryMiner[]): void;
  start(): void;
  stop(): Promise<void>;
}

/** Tracker fields a poll thread owns and the main thread mirrors (snapshots, aggregates, events). */
export interface TrackerFields {
  failures: number;
  lastSeenMs: number | null;
  lastPollMs: number;
  lastError: MinerFailureCode | null;
  minerStatus: string;
}

// Messages between the main thread and a poll thread (collector/poll-worker.ts).
export type ThreadItem =
  | { k: 'polled'; id: string; f: TrackerFields; sample: MinerSample; issues: string[]; details?: MinerDetailsInfo; durationMs: number }
  | { k: 'missed'; id: string; f: TrackerFields; timeMs: number; reason: MinerFailureCode | null; rpc: string }
  | { k: 'status'; id: string; f: TrackerFields; minerStatus: string }
  | { k: 'cycle'; polls: number; durationMs: number; lagMs: number };

/** A metric call made on a poll thread, replayed on the main thread's registry: [metric, method, ...args]. */
export type MetricCall = [string, 'inc' | 'set' | 'observe', ...unknown[]];

export type FromThread =
  | { t: 'batch'; items: ThreadItem[]; metrics: MetricCall[] }
  | { t: 'call'; id: number; fn: 'credentials'; name: string }
  | { t: 'call'; id: number; fn: 'admit'; miner: string; details: MinerDetailsInfo }
  | { t: 'stopped' };

export type ToThread = { t: 'inventory'; miners: InventoryMiner[] } | { t: 'start' } | { t: 'reply'; id: number; value?: unknown; error?: string } | { t: 'stop' };

export interface PollThreadInit {
  /** one Float64: until when (epoch ms) polls may start, written by the main thread (leases) */
  gate: SharedArrayBuffer;
  scheduler: Pick<SchedulerOptions, 'intervalMs' | 'concurrency' | 'offlineAfterMisses' | 'backoffMaxMs' | 'statusStream' | 'poll' | 'tickMs'>;
  rpcTimeoutMs: number;
  admit: boolean;
  logLevel: string;
}

/**
 * `threads` 1: the PollScheduler on this thread (as before). More: poll threads, each owning a
 * disjoint set of miners with its own gRPC clients and a share of the concurrency.
 */
export function createMinerPoller(threads: number, opts: SchedulerOptions, deps: { credentials: Pick<CredentialStore, 'resolve'>; rpcTimeoutMs: number }): MinerPoller {
  return threads <= 1 ? new PollScheduler(opts) : new ThreadedPoller(threads, opts, deps);
}

/** Stable thread of a miner, from its id (FNV-1a): it keeps its client and session across inventory reloads. */
export function threadOf(id: string, threads: number): number {
  let h = 2166136261;
  for (let i = 0; i < id.length; i++) h = Math.imul(h ^ id.charCodeAt(i), 16777619);
  return (h >>> 0) % threads;
}

/** The share of `total` concurrency slots of thread i of n: together exactly total (at least 1 each). */
export function concurrencyShare(total: number, i: number, n: number): number {
  return Math.max(1, Math.floor(total / n) + (i < total % n ? 1 : 0));
}

interface PollThread {
  worker: Worker;
  miners: InventoryMiner[];
  queueDepth: number;
  cycles: { polls: number; durationMs: number; lagMs: number }[];
  stopped: Promise<void> | null;
  onStopped: (() => void) | null;
  /** false from its worker's exit until the restart */
  alive: boolean;
}

/**
 * The main thread's side of the poll threads: mirrors of the trackers (what snapshots, aggregates
 * and events read), the sink (series writer, state, rollups, events: one writer per store, here),
 * credentials and device identity, the metrics, and the fleet cycle.
 */
class ThreadedPoller implements MinerPoller {
  readonly trackers = new Map<string, MinerTracker>();
  private readonly opts: SchedulerOptions;
  private readonly deps: { credentials: Pick<CredentialStore, 'resolve'>; rpcTimeoutMs: number };
  private readonly threads: PollThread[] = [];
  private cycleTimer: NodeJS.Timeout | null = null;
  private gateTimer: NodeJS.Timeout | null = null;
  /** until when the threads may start polls: the leases' validity, refreshed every tick */
  private readonly gate = new Float64Array(new SharedArrayBuffer(8)).fill(Infinity);
  private cycleIndex = 0;
  private running = false;
  private stopping = false;

  constructor(count: number, opts: SchedulerOptions, deps: { credentials: Pick<CredentialStore, 'resolve'>; rpcTimeoutMs: number }) {
    this.opts = opts;
    this.deps = deps;
    for (let i = 0; i < count; i++) this.threads.push({ worker: this.spawn(i, count), miners: [], queueDepth: 0, cycles: [], stopped: null, onStopped: null, alive: true });
  }

  get offlineAfterMisses(): number {
    return this.opts.offlineAfterMisses;
  }

  private spawn(i: number, count: number): Worker {
    const o = this.opts;
    const init: PollThreadInit = {
      gate: this.gate.buffer as SharedArrayBuffer,
      scheduler: { intervalMs: o.intervalMs, concurrency: concurrencyShare(o.concurrency, i, count), offlineAfterMisses: o.offlineAfterMisses, backoffMaxMs: o.backoffMaxMs, statusStream: o.statusStream, poll: o.poll, ...(o.tickMs !== undefined ? { tickMs: o.tickMs } : {}) },
      rpcTimeoutMs: this.deps.rpcTimeoutMs,
      admit: o.admit !== undefined,
      logLevel: o.log.level,
    };
    const worker = new Worker(new URL('./poll-worker.ts', import.meta.url), { workerData: init, name: `poll-thread-${i}` });
    worker.on('message', (m: FromThread) => this.onMessage(i, m));
    worker.on('error', err => {
      o.log.error({ thread: i, err: err.message }, 'poll thread crashed; restarting it with its miners');
    });
    worker.on('exit', code => {
      const th = this.threads[i];
      if (th) th.alive = false;
      if (!th || this.stopping) return;
      o.log.warn({ thread: i, code }, 'poll thread exited; restarting it in 1 s');
      // not at once: a thread that dies while starting must not spin the main thread
      setTimeout(() => {
        if (this.stopping) return;
        th.worker = this.spawn(i, count);
        th.alive = true;
        th.worker.postMessage({ t: 'inventory', miners: th.miners } satisfies ToThread);
        if (this.running) th.worker.postMessage({ t: 'start' } satisfies ToThread);
      }, 1_000).unref();
    });
    return worker;
  }

  setInventory(miners: InventoryMiner[]): void {
    const seen = new Set<string>();
    const parts: InventoryMiner[][] = this.threads.map(() => []);
    for (const m of miners) {
      seen.add(m.id);
      const t = this.trackers.get(m.id);
      if (t) t.update(m);
      else this.trackers.set(m.id, new MinerTracker(m));
      parts[threadOf(m.id, this.threads.length)]!.push(m);
    }
    for (const id of this.trackers.keys()) if (!seen.has(id)) this.trackers.delete(id);
    this.threads.forEach((th, i) => {
      th.miners = parts[i]!;
      th.worker.postMessage({ t: 'inventory', miners: th.miners } satisfies ToThread);
    });
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    const until = this.opts.pollableUntilMs;
    if (until) {
      // A validity that only moves forward between renewals; the threads compare it with their own clock.
      const refresh = (): void => void (this.gate[0] = until());
      refresh();
      this.gateTimer = setInterval(refresh, this.opts.tickMs ?? 50);
    }
    for (const th of this.threads) th.worker.postMessage({ t: 'start' } satisfies ToThread);
    this.cycleTimer = setInterval(() => this.endCycle(), this.opts.intervalMs);
  }

  private onMessage(i: number, m: FromThread): void {
    const th = this.threads[i]!;
    if (m.t === 'batch') {
      for (const c of m.metrics) this.replay(th, c);
      for (const item of m.items) this.apply(th, item);
    } else if (m.t === 'call') {
      void this.answer(m).then(
        value => th.worker.postMessage({ t: 'reply', id: m.id, value } satisfies ToThread),
        (err: unknown) => th.worker.postMessage({ t: 'reply', id: m.id, error: (err as Error).message } satisfies ToThread),
      );
    } else if (m.t === 'stopped') {
      th.onStopped?.();
    }
  }

  private async answer(m: Extract<FromThread, { t: 'call' }>): Promise<unknown> {
    if (m.fn === 'credentials') return this.deps.credentials.resolve(m.name);
    const t = this.trackers.get(m.miner);
    if (!t || !this.opts.admit) return true;
    t.details = m.details;
    return this.opts.admit(t);
  }

  private replay(th: PollThread, [name, method, ...args]: MetricCall): void {
    // The fleet cycle is the main thread's; the queue depth is the sum over the threads.
    if (name === 'cycleDuration' || name === 'cycleLag' || name === 'lastCycleTimestamp') return;
    if (name === 'queueDepth') {
      th.queueDepth = Number(args[0]);
      this.opts.metrics.queueDepth.set(this.threads.reduce((a, x) => a + x.queueDepth, 0));
      return;
    }
    const metric = (this.opts.metrics as unknown as Record<string, Record<string, (...a: unknown[]) => void>>)[name];
    if (!metric?.[method]) throw new FleetError('internal', `poll thread sent an unknown metric call ${name}.${method}`);
    metric[method](...args);
  }

  private apply(th: PollThread, item: ThreadItem): void {
    if (item.k === 'cycle') {
      th.cycles.push(item);
      return;
    }
    const t = this.trackers.get(item.id);
    if (!t) return; // removed from the inventory meanwhile
    Object.assign(t, item.f);
    const sink = this.opts.sink;
    if (item.k === 'polled') {
      if (item.details) t.details = item.details;
      sink.polled(t, { ok: true, result: { sample: item.sample, issues: item.issues }, detailsRefreshed: item.details !== undefined, durationMs: item.durationMs });
    } else if (item.k === 'missed') {
      const outcome = item.reason === null ? null : { ok: false as const, reason: item.reason, rpc: item.rpc, durationMs: 0, error: new FleetError('miner_error', `poll of miner ${item.id} failed: ${item.reason}`) };
      sink.missed(t, outcome, item.timeMs);
    } else {
      sink.statusPushed(t, item.minerStatus);
    }
  }

  private endCycle(): void {
    // Each thread ends its own cycles; the fleet's cycle adds up the ones that ended since the last.
    const now = Date.now();
    let polls = 0;
    let durationMs = 0;
    let lagMs = 0;
    for (const th of this.threads) {
      for (const c of th.cycles) {
        polls += c.polls;
        durationMs = Math.max(durationMs, c.durationMs);
        lagMs = Math.max(lagMs, c.lagMs);
      }
      th.cycles = [];
    }
    const stats: CycleStats = { index: this.cycleIndex++, polls, durationMs, lagMs, endedMs: now };
    const m = this.opts.metrics;
    m.cycleDuration.observe(durationMs / 1_000);
    m.cycleLag.set(Math.max(0, lagMs) / 1_000);
    m.lastCycleTimestamp.set(now / 1_000);
    this.opts.sink.cycle(this.trackers.values(), stats);
  }

  /** Stop every thread: in-flight polls finish and their results arrive before this resolves. */
  async stop(): Promise<void> {
    this.running = false;
    this.stopping = true;
    if (this.cycleTimer) clearInterval(this.cycleTimer);
    if (this.gateTimer) clearInterval(this.gateTimer);
    this.cycleTimer = this.gateTimer = null;
    await Promise.all(
      this.threads.map(async th => {
        if (!th.alive) return;
        th.stopped ??= new Promise<void>(resolve => {
          th.onStopped = resolve;
          th.worker.once('exit', () => resolve());
          th.worker.postMessage({ t: 'stop' } satisfies ToThread);
        });
        await th.stopped;
        await th.worker.terminate();
      }),
    );
  }
}
