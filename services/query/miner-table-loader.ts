import { Worker } from 'node:worker_threads';
import { FleetError, type FleetErrorCode } from '../../core/errors.ts';
import type { Logger } from '../../runtime/logger.ts';
import type { StatePort } from '../../store/ports/state.ts';
import { minerTable, readMinerColumns, type MinerTable } from './miner-table.ts';
import { tableFromMessage, type TableMessage } from './miner-table-transfer.ts';

/** Loads a tenant's miner table; `prev` is the table it replaces (its unchanged values are reused). */
export interface MinerTableLoader {
  load(tenant: string, version: number, prev: MinerTable | undefined): Promise<MinerTable>;
  close(): Promise<void>;
}

export interface LoaderWorkerData {
  redisUrl: string;
  redisPrefix: string;
}

export interface LoadRequest {
  id: number;
  tenant: string;
  version: number;
  /** the version of the table the request thread holds (-1: none) */
  baseVersion: number;
}

export type LoadReply =
  | { id: number; ok: true; message: TableMessage }
  | { id: number; ok: false; code: FleetErrorCode | 'internal'; message: string };

/**
 * On influx-redis with a Redis URL, tables are read and parsed in a worker thread; otherwise in
 * the calling thread: the embedded store hands out snapshots already in memory (nothing to
 * parse), and tests may hand FleetQuery a Redis client only.
 */
export function createTableLoader(o: {
  state: StatePort;
  /** the Redis the state is on (influx-redis only): read it from a worker thread */
  redis?: { url: string; prefix: string } | undefined;
  log?: Logger | undefined;
}): MinerTableLoader {
  return o.redis
    ? new WorkerTableLoader({ redisUrl: o.redis.url, redisPrefix: o.redis.prefix }, o.log)
    : new ThreadTableLoader(o.state);
}

class ThreadTableLoader implements MinerTableLoader {
  private readonly store: StatePort;

  constructor(store: StatePort) {
    this.store = store;
  }

  async load(tenant: string, version: number, prev: MinerTable | undefined): Promise<MinerTable> {
    return minerTable(await readMinerColumns(this.store, tenant, prev), version);
  }

  async close(): Promise<void> {}
}

interface Pending {
  resolve: (t: MinerTable) => void;
  reject: (err: Error) => void;
  prev: MinerTable | undefined;
  version: number;
}

/**
 * Reading 10,000 snapshots is ~25 MB of JSON; parsed in the request thread, every reload made the
 * scavenges that followed copy and promote 20–30 MB, stalling requests by 15–100 ms (list p99
 * 30–66 ms at 1,000 req/s). In a worker, the request thread receives typed arrays and the few
 * strings that changed.
 */
class WorkerTableLoader implements MinerTableLoader {
  private worker: Worker | null = null;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private readonly data: LoaderWorkerData;
  private readonly log: Logger | undefined;

  constructor(data: LoaderWorkerData, log: Logger | undefined) {
    this.data = data;
    this.log = log;
  }

  load(tenant: string, version: number, prev: MinerTable | undefined): Promise<MinerTable> {
    const worker = this.worker ?? this.start();
    const id = this.nextId++;
    const req: LoadRequest = { id, tenant, version, baseVersion: prev?.version ?? -1 };
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject, prev, version });
      worker.postMessage(req);
    });
  }

  async close(): Promise<void> {
    const w = this.worker;
    this.worker = null;
    this.failAll(new FleetError('unavailable', 'the API is shutting down'));
    await w?.terminate();
  }

  private start(): Worker {
    const w = new Worker(new URL('./miner-table-worker.ts', import.meta.url), { workerData: this.data });
    // it serves requests; it must not keep a stopping process alive
    w.unref();
    w.on('message', (reply: LoadReply) => this.settle(reply));
    w.on('error', err => {
      this.log?.error(
        { err: err.message },
        'miner table loader thread failed; starting a new one on the next load',
      );
      this.stopped(w, err);
    });
    w.on('exit', code => this.stopped(w, new Error(`miner table loader thread exited with code ${code}`)));
    this.worker = w;
    return w;
  }

  private settle(reply: LoadReply): void {
    const p = this.pending.get(reply.id);
    if (!p) return;
    this.pending.delete(reply.id);
    if (!reply.ok) {
      p.reject(
        reply.code === 'internal' ? new Error(reply.message) : new FleetError(reply.code, reply.message),
      );
      return;
    }
    try {
      p.resolve(tableFromMessage(reply.message, p.prev, p.version));
    } catch (err) {
      p.reject(err as Error);
    }
  }

  private stopped(w: Worker, err: Error): void {
    if (this.worker !== w) return;
    this.worker = null;
    this.failAll(
      new FleetError('unavailable', `the miner table could not be loaded: ${err.message}`, { cause: err }),
    );
  }

  private failAll(err: Error): void {
    for (const p of this.pending.values()) p.reject(err);
    this.pending.clear();
  }
}
