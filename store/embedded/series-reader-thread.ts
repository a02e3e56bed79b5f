import { Worker } from 'node:worker_threads';
import { FleetError } from '../../core/errors.ts';
import type { Logger } from '../../runtime/logger.ts';
import type { ReadReply, ReadRequest } from './series-read-worker.ts';
import type { Sql } from './series-sql.ts';

/**
 * Runs series reads on one worker thread with a read-only connection (WAL lets it read while
 * the writer commits). Why: a fleet-wide read over a rollup tier can take seconds at 1,000
 * miners (bench/store/series-embedded.ts) and the embedded backend is one process. Started on
 * the first read; a crashed worker is replaced on the next one.
 */
export class SeriesReaderThread {
  private readonly file: string;
  private readonly log: Logger | undefined;
  private worker: Worker | null = null;
  private nextId = 1;
  private readonly waiting = new Map<number, { resolve: (rows: Record<string, unknown>[]) => void; reject: (err: Error) => void }>();

  constructor(file: string, log?: Logger) {
    this.file = file;
    this.log = log;
  }

  private start(): Worker {
    if (this.worker) return this.worker;
    const w = new Worker(new URL('./series-read-worker.ts', import.meta.url), { workerData: { file: this.file } });
    w.unref();
    w.on('message', (reply: ReadReply) => {
      const p = this.waiting.get(reply.id);
      if (!p) return;
      this.waiting.delete(reply.id);
      if (reply.ok) p.resolve(reply.rows);
      else p.reject(new FleetError('unavailable', `the embedded store could not read series: ${reply.message}`));
    });
    const fail = (err: Error): void => {
      if (this.worker === w) this.worker = null;
      this.log?.warn({ err: err.message }, 'series read thread stopped; a new one starts with the next read');
      for (const p of this.waiting.values()) p.reject(new FleetError('unavailable', 'the series read thread stopped', { cause: err }));
      this.waiting.clear();
    };
    w.on('error', fail);
    w.on('exit', code => {
      if (this.worker === w && code !== 0) fail(new Error(`exit code ${code}`));
      if (this.worker === w) this.worker = null;
    });
    this.worker = w;
    return w;
  }

  read(sql: Sql): Promise<Record<string, unknown>[]> {
    const w = this.start();
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      if (this.waiting.size === 1) w.ref(); // keep the process up for an answer due
      const req: ReadRequest = { id, sql: sql.sql, params: sql.params };
      w.postMessage(req);
    }).finally(() => {
      if (this.waiting.size === 0) this.worker?.unref();
    }) as Promise<Record<string, unknown>[]>;
  }

  async close(): Promise<void> {
    const w = this.worker;
    this.worker = null;
    if (w) await w.terminate();
    for (const p of this.waiting.values()) p.reject(new FleetError('unavailable', 'the embedded store is closed'));
    this.waiting.clear();
  }
}
