import { HttpError, InfluxDB, type Transport, type WriteApi } from '@influxdata/influxdb-client';
import { FleetError } from '../../core/errors.ts';
import { authHeaders, InfluxClient, type InfluxSettings } from './influx-client.ts';
import { silentLogger, type Logger } from '../../runtime/logger.ts';
import type { CollectorMetrics } from '../../collector/metrics.ts';

/**
 * Batched line-protocol writes to InfluxDB's v1-compatible `/write` (served by 1.x, 2.x and 3.x).
 *
 * Why we own the buffer instead of using the client's retry buffer: the client gives up after
 * maxRetries / maxRetryTime and silently sheds lines beyond maxBufferLines, so a long outage
 * loses data in ways that are hard to see. Here one bounded FIFO holds every pending line:
 *  - capacity INFLUX_BUFFER_MAX_POINTS; when full the OLDEST pending lines are dropped (the
 *    batches currently on the wire excepted), counted in pointsDropped{reason="buffer_full"} and
 *    logged once per burst (a burst ends at the next successful write);
 *  - a batch is sent every INFLUX_FLUSH_INTERVAL_MS or as soon as INFLUX_BATCH_SIZE lines are
 *    pending; at most INFLUX_WRITE_CONCURRENCY requests are in flight (a request is mostly
 *    InfluxDB's CPU time, and an InfluxDB with several cores writes several at once; lines of
 *    one series may then land out of order, which InfluxDB sorts by timestamp anyway);
 *  - a failed batch goes back to the front of the queue and is retried with capped exponential
 *    backoff (INFLUX_MAX_RETRY_DELAY_MS) + jitter, honouring Retry-After, for as long as it
 *    takes: nothing is lost for an outage the buffer covers;
 *  - 4xx means "this data is bad" and is not retried (lines dropped, pointsDropped{reason=
 *    "rejected"}, body logged) -- except 429 (throttling), 404 (database/bucket missing: on 1.x
 *    we CREATE DATABASE and retry), 401/403 (credentials: an operator fixes them, the data is
 *    fine) and 413 (batch too large: halve the batch size and retry);
 *  - close() drains the buffer, retrying until its timeout; what is still pending then is
 *    counted as pointsDropped{reason="shutdown"} and logged.
 * The HTTP write itself still goes through the client's WriteApi (gzip above gzipThreshold,
 * HttpError with status/body/Retry-After) with its own retries disabled (maxRetries 0, a
 * writeFailed hook that hands every error back to us), over a transport that rewrites the
 * client's hard-wired `/api/v2/write?org=&bucket=db/rp&precision=` to `/write?db=&rp=&precision=`.
 */

export interface InfluxWriterOptions {
  settings: InfluxSettings;
  metrics: CollectorMetrics;
  logger?: Logger;
  /** lines per request (INFLUX_BATCH_SIZE) */
  batchSize: number;
  /** send pending lines at least this often (INFLUX_FLUSH_INTERVAL_MS) */
  flushIntervalMs: number;
  /** buffer capacity in lines (INFLUX_BUFFER_MAX_POINTS) */
  bufferMaxPoints: number;
  /** backoff cap (INFLUX_MAX_RETRY_DELAY_MS) */
  maxRetryDelayMs: number;
  /** requests in flight at most (INFLUX_WRITE_CONCURRENCY); default 1 */
  concurrency?: number;
  /** first backoff step; default 500 ms */
  minRetryDelayMs?: number;
  /** request bodies above this many bytes are gzipped; default 1000 */
  gzipThreshold?: number;
  /** for ensureDatabase(); default: a client over the same settings */
  client?: InfluxClient;
}

/** Client transport whose write path is the v1 `/write` endpoint. */
export function v1WriteTransport(base: Transport): Transport {
  const rewrite = (path: string): string => {
    if (!path.startsWith('/api/v2/write?')) return path;
    const p = new URLSearchParams(path.slice(path.indexOf('?') + 1));
    const [db = '', rp] = (p.get('bucket') ?? '').split('/');
    const q = new URLSearchParams({ db });
    if (rp) q.set('rp', rp);
    const precision = p.get('precision') ?? 'ms';
    q.set('precision', precision === 'us' ? 'u' : precision); // 1.x spells microseconds `u`
    return `/write?${q.toString()}`;
  };
  return {
    send: (path, body, options, callbacks) => base.send(rewrite(path), body, options, callbacks),
    request: (path, body, options, started) => base.request(rewrite(path), body, options, started),
    iterate: (path, body, options) => base.iterate(rewrite(path), body, options),
    chunkCombiner: base.chunkCombiner,
  };
}

/** FIFO of lines in chunks: O(1) push / take / drop-oldest, memory proportional to content. */
class LineQueue {
  private static readonly CHUNK = 4096;
  private chunks: string[][] = [];
  private head = 0;
  size = 0;

  push(line: string): void {
    let last = this.chunks[this.chunks.length - 1];
    if (!last || last.length >= LineQueue.CHUNK) this.chunks.push((last = []));
    last.push(line);
    this.size++;
  }

  /** Put lines back in front (a failed batch), keeping their order. */
  unshift(lines: string[]): void {
    if (lines.length === 0) return;
    if (this.head > 0 && this.chunks[0]) this.chunks[0] = this.chunks[0].slice(this.head);
    this.head = 0;
    this.chunks.unshift(lines);
    this.size += lines.length;
  }

  /** Remove up to n lines from the front; returns them when `keep`. */
  take(n: number, keep = true): string[] {
    const out: string[] = [];
    while (n > 0 && this.size > 0) {
      const c = this.chunks[0]!;
      const k = Math.min(n, c.length - this.head);
      if (keep) for (let i = this.head; i < this.head + k; i++) out.push(c[i]!);
      this.head += k;
      this.size -= k;
      n -= k;
      if (this.head >= c.length) {
        this.chunks.shift();
        this.head = 0;
      }
    }
    return out;
  }
}

const sleep = (ms: number): Promise<void> => new Promise(r => setTimeout(r, Math.max(0, ms)));

/** p, or `fallback` after ms (the timer is cleared either way, so nothing keeps the process alive). */
async function withTimeout<T>(p: Promise<T>, ms: number, fallback: T): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const t = new Promise<T>(resolve => (timer = setTimeout(() => resolve(fallback), Math.max(0, ms))));
  try {
    return await Promise.race([p, t]);
  } finally {
    clearTimeout(timer);
  }
}

type Outcome = 'ok' | 'retry' | 'dropped';

export class InfluxWriter {
  private readonly opts: Required<Omit<InfluxWriterOptions, 'client' | 'logger'>>;
  private readonly log: Logger;
  private readonly client: InfluxClient;
  private readonly api: WriteApi;
  private readonly queue = new LineQueue();
  private readonly capacity: number;
  private batchSize: number;
  private readonly concurrency: number;
  /** lines on the wire, summed over lanes */
  private inFlight = 0;
  /** send loops running; a round of lanes ends when the last one does */
  private lanes = 0;
  private roundFailed = false;
  private settleRound: ((ok: boolean) => void) | null = null;
  private sending: Promise<boolean> | null = null;
  private interval: NodeJS.Timeout | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private state: 'open' | 'closing' | 'closed' = 'open';
  private failures = 0;
  private failingSince = 0;
  private retryAt = 0;
  private needEnsure = false;
  private burstDropped = 0;
  private lastRejectLog = 0;
  private rejectsSinceLog = 0;
  private closing: Promise<void> | null = null;
  private sizeKick = false;
  /** lines InfluxDB acknowledged, and lines given up on, since start */
  written = 0;
  dropped = 0;

  constructor(options: InfluxWriterOptions) {
    this.opts = { minRetryDelayMs: 500, gzipThreshold: 1000, concurrency: 1, ...options };
    this.log = options.logger ?? silentLogger();
    this.client = options.client ?? new InfluxClient(options.settings);
    this.capacity = options.bufferMaxPoints;
    this.concurrency = Math.max(1, Math.floor(this.opts.concurrency));
    // The batches on the wire never take more than half the buffer, so new lines always have room beside them.
    this.batchSize = Math.max(
      1,
      Math.min(options.batchSize, Math.floor(this.capacity / (2 * this.concurrency))),
    );
    const { settings } = options;
    const base = new InfluxDB({
      url: settings.url,
      headers: authHeaders(settings),
      timeout: settings.timeoutMs ?? 30_000,
    });
    const influx = new InfluxDB({ url: settings.url, transport: v1WriteTransport(base.transport) });
    this.api = influx.getWriteApi('', settings.db, 'ms', {
      // We hand it exactly one batch per flush(): never let it batch, time or retry on its own.
      batchSize: options.batchSize + 1,
      maxBatchBytes: Number.POSITIVE_INFINITY,
      flushInterval: 0,
      maxRetries: 0,
      maxBufferLines: 1,
      gzipThreshold: this.opts.gzipThreshold,
      writeFailed: (err: Error) => Promise.reject(err), // ours to handle (and log), not the client's
    });
    options.metrics.bufferCapacity.set(this.capacity);
    options.metrics.bufferFill.set(0);
  }

  /** Lines waiting (including the batches on the wire). */
  get pending(): number {
    return this.queue.size + this.inFlight;
  }

  /** Create the database where the flavour needs it, then start the flush timer. */
  async start(): Promise<void> {
    await this.ensureDatabase();
    this.interval ??= setInterval(() => {
      if (this.queue.size > 0 && Date.now() >= this.retryAt) void this.kick();
    }, this.opts.flushIntervalMs);
    this.interval.unref();
  }

  /** CREATE DATABASE on 1.x (idempotent). Failure is logged, retried before the next write. */
  async ensureDatabase(): Promise<void> {
    try {
      await this.client.ensureDatabase();
      this.needEnsure = false;
    } catch (err) {
      this.needEnsure = true;
      this.log.warn(
        { err: (err as Error).message },
        'cannot ensure the InfluxDB database yet; will retry before writing',
      );
    }
  }

  /** Enqueue lines (synchronous; never blocks the poller). */
  write(lines: readonly string[]): void {
    const m = this.opts.metrics;
    if (this.state === 'closed') {
      m.pointsDropped.inc({ reason: 'closed' }, lines.length);
      this.dropped += lines.length;
      this.log.warn({ points: lines.length }, 'InfluxDB writer is closed; points dropped');
      return;
    }
    for (const l of lines) this.queue.push(l);
    const over = Math.min(this.pending - this.capacity, this.queue.size);
    if (over > 0) {
      this.queue.take(over, false);
      m.pointsDropped.inc({ reason: 'buffer_full' }, over);
      this.dropped += over;
      if (this.burstDropped === 0) {
        this.log.warn(
          { capacity: this.capacity },
          'InfluxDB write buffer full: dropping the oldest points until writes succeed',
        );
      }
      this.burstDropped += over;
    }
    m.bufferFill.set(this.pending);
    if (
      this.queue.size >= this.batchSize &&
      !this.sizeKick &&
      this.lanes < this.concurrency &&
      Date.now() >= this.retryAt
    ) {
      // Serialising a batch is not the poller's job: start the send after the current tick.
      this.sizeKick = true;
      setImmediate(() => {
        this.sizeKick = false;
        if (this.state === 'open') void this.kick(false);
      });
    }
  }

  /** Send until the buffer is empty; rejects (lines kept for retry) when a write fails. */
  async flush(): Promise<void> {
    for (;;) {
      const ok = await (this.sending ?? (this.queue.size > 0 ? this.kick() : true));
      if (!ok) {
        throw new FleetError('unavailable', `InfluxDB write failed; ${this.pending} points kept for retry`);
      }
      if (this.queue.size === 0 && !this.sending) return;
    }
  }

  /** Stop the timers and drain everything, retrying until timeoutMs. Idempotent. */
  close({ timeoutMs = 30_000 }: { timeoutMs?: number } = {}): Promise<void> {
    this.closing ??= this.drainAndClose(timeoutMs);
    return this.closing;
  }

  private async drainAndClose(timeoutMs: number): Promise<void> {
    this.state = 'closing';
    clearInterval(this.interval);
    clearTimeout(this.retryTimer);
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      const flushed = this.flush().then(
        () => true,
        () => false,
      );
      if (await withTimeout(flushed, deadline - Date.now(), false)) break;
      await sleep(Math.min(this.backoff(), deadline - Date.now()));
    }
    this.state = 'closed'; // from here kick() starts nothing new
    if (this.sending) await this.sending; // a request still on the wire settles (bounded by its timeout)
    const lost = this.pending;
    if (lost > 0) {
      this.opts.metrics.pointsDropped.inc({ reason: 'shutdown' }, lost);
      this.dropped += lost;
      this.log.error(
        { points: lost },
        'InfluxDB writer closed with unwritten points (InfluxDB unavailable until the close timeout)',
      );
      this.queue.take(lost, false);
    }
    this.opts.metrics.bufferFill.set(0);
    await this.api.close().catch(() => undefined);
  }

  /**
   * Start send lanes up to the concurrency (at least one when none runs); resolves false when a
   * batch of this round failed. `drain` sends a trailing partial batch too (timer, flush, retry);
   * a size trigger sends full ones only. After a failure no lane takes a new batch until the
   * retry (or the next flush) starts a new round.
   */
  private kick(drain = true): Promise<boolean> {
    if (this.state === 'closed') return this.sending ?? Promise.resolve(false);
    if (!this.sending) {
      this.roundFailed = false;
      this.sending = new Promise<boolean>(resolve => (this.settleRound = resolve));
    }
    const round = this.sending;
    const min = drain ? 1 : this.batchSize;
    while (this.lanes < this.concurrency && !this.roundFailed && this.queue.size >= min) {
      this.lanes++;
      void this.lane(min);
    }
    if (this.lanes === 0) this.endRound();
    return round;
  }

  private endRound(): void {
    const ok = !this.roundFailed;
    const settle = this.settleRound;
    this.sending = null;
    this.settleRound = null;
    if (!ok) this.scheduleRetry();
    settle?.(ok);
  }

  /** One send loop: batches one after another until the queue is short or a batch failed. */
  private async lane(min: number): Promise<void> {
    try {
      while (!this.roundFailed && this.queue.size >= min) {
        const batch = this.queue.take(this.batchSize);
        this.inFlight += batch.length;
        const outcome = await this.send(batch);
        this.inFlight -= batch.length;
        if (outcome === 'retry') {
          this.roundFailed = true;
          this.queue.unshift(batch);
          // Lines written meanwhile may have overfilled the buffer: drop the oldest again.
          const over = Math.min(this.pending - this.capacity, this.queue.size);
          if (over > 0) {
            this.queue.take(over, false);
            this.opts.metrics.pointsDropped.inc({ reason: 'buffer_full' }, over);
            this.dropped += over;
            this.burstDropped += over;
          }
        }
        this.opts.metrics.bufferFill.set(this.pending);
      }
    } finally {
      this.lanes--;
      if (this.lanes === 0) this.endRound();
    }
  }

  private async send(batch: string[]): Promise<Outcome> {
    const m = this.opts.metrics;
    const t0 = performance.now();
    try {
      if (this.needEnsure) {
        await this.client.ensureDatabase();
        this.needEnsure = false;
      }
      this.api.writeRecords(batch);
      await this.api.flush();
    } catch (err) {
      m.writeFailures.inc();
      return this.failed(err, batch);
    }
    m.storeWriteDuration.observe({ kind: 'series' }, (performance.now() - t0) / 1000);
    m.pointsWritten.inc(batch.length);
    this.written += batch.length;
    if (this.failures > 0) {
      this.log.info(
        { failed_attempts: this.failures, outage_ms: Date.now() - this.failingSince },
        'InfluxDB writes recovered',
      );
    }
    if (this.burstDropped > 0) {
      this.log.warn(
        { dropped: this.burstDropped },
        'InfluxDB write buffer has room again; points were dropped while it was full',
      );
    }
    this.failures = 0;
    this.retryAt = 0;
    this.burstDropped = 0;
    return 'ok';
  }

  private failed(err: unknown, batch: string[]): Outcome {
    const status = err instanceof HttpError ? err.statusCode : undefined;
    const body = err instanceof HttpError ? (err.body ?? '') : '';
    if (
      status !== undefined &&
      status >= 400 &&
      status < 500 &&
      ![401, 403, 404, 413, 429].includes(status)
    ) {
      const n = rejectedLines(body, batch.length);
      this.opts.metrics.pointsDropped.inc({ reason: 'rejected' }, n);
      this.dropped += n;
      this.rejectsSinceLog++;
      // Log the body once, then at most once a minute (a bug that writes bad lines each cycle must not flood).
      if (Date.now() - this.lastRejectLog > 60_000) {
        this.log.error(
          {
            status,
            influx_error: body.slice(0, 1_000),
            rejected_points: n,
            rejected_batches: this.rejectsSinceLog,
          },
          'InfluxDB rejected points (not retried)',
        );
        this.lastRejectLog = Date.now();
        this.rejectsSinceLog = 0;
      }
      return 'dropped';
    }
    this.opts.metrics.writeRetries.inc();
    if (status === 413 && this.batchSize > 1) this.batchSize = Math.ceil(this.batchSize / 2);
    if (status === 404 || status === undefined) this.needEnsure = true; // missing database, or an outage (maybe a fresh server)
    if (this.failures === 0) {
      this.failingSince = Date.now();
      this.log.warn(
        { status, err: (err as Error).message, pending: this.pending },
        'InfluxDB write failed; buffering and retrying',
      );
    } else if (status === 401 || status === 403 || status === 404) {
      if (this.failures % 20 === 0)
        this.log.error(
          { status, err: (err as Error).message },
          'InfluxDB keeps refusing writes; check INFLUX_DB and credentials',
        );
    }
    this.failures++;
    const retryAfter = err instanceof HttpError ? err.retryAfter() * 1000 : 0; // the client keeps the header's raw seconds
    this.retryAt = Date.now() + Math.min(this.opts.maxRetryDelayMs, Math.max(this.backoff(), retryAfter));
    return 'retry';
  }

  /** Capped exponential backoff with jitter (50-100 % of the step). */
  private backoff(): number {
    const step = this.opts.minRetryDelayMs * 2 ** Math.min(Math.max(this.failures - 1, 0), 30);
    return Math.min(this.opts.maxRetryDelayMs, step) * (0.5 + Math.random() * 0.5);
  }

  private scheduleRetry(): void {
    if (this.state !== 'open') return; // close() drives its own retries
    clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => void this.kick(), Math.max(0, this.retryAt - Date.now()));
    this.retryTimer.unref();
  }
}

/**
 * How many lines a 400 cost. InfluxDB writes the valid lines of a batch ("partial write") and
 * reports `unable to parse '…'` per bad line plus `dropped=N` (type conflicts, 1.x) or
 * `(N written)` (2.x); anything else is counted as the whole batch.
 */
export function rejectedLines(body: string, batchLength: number): number {
  if (!/partial write/i.test(body)) return batchLength;
  const written = /\((\d+) written\)/.exec(body);
  if (written) return Math.max(0, batchLength - Number(written[1]));
  const parse = body.match(/unable to parse/g)?.length ?? 0;
  const dropped = Number(/dropped=(\d+)/.exec(body)?.[1] ?? 0);
  return Math.min(batchLength, Math.max(1, parse + dropped));
}
