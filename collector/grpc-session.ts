import http2 from 'node:http2';
import { Metadata, status as GrpcStatus, type ServiceError } from '@grpc/grpc-js';

/**
 * gRPC unary and server-streaming calls over one plain HTTP/2 session (node:http2), for the
 * miner client's poll path. A grpc-js channel costs ~20 kB of JavaScript objects per miner
 * (channel, subchannel, resolver, load balancer, backoff timers) and a chain of objects per
 * call whose promotion to the old generation sets the collector's memory; measured at 5,000
 * miners, a bare loop over sessions like this one held 84 MB per 1,000 miners against 191 for
 * grpc-js, at two thirds of the CPU (bench/README.md). What grpc-js does and a miner needs is
 * kept: deadlines (grpc-timeout plus a local timer), cancellation, trailers-only answers,
 * HTTP-to-gRPC status mapping, message framing across DATA frames, a message size limit,
 * keepalive pings while calls are open, and a new session after the old one failed.
 *
 * Failures are shaped like grpc-js's ServiceError (code, details, metadata), so grpc-errors.ts
 * maps both transports alike. Messages are never compressed: we send no grpc-accept-encoding,
 * so a compressed answer is a protocol error.
 */

export interface GrpcSessionOptions {
  /** host:port */
  address: string;
  /** ping interval while calls are open; 0 disables. @defaultValue 30000 */
  keepaliveMs?: number;
  /** a ping unanswered this long closes the session. @defaultValue 10000 */
  keepaliveTimeoutMs?: number;
  /** @defaultValue 16 MiB */
  maxMessageBytes?: number;
}

export interface CallHandlers {
  /** each message of the answer, in order */
  onMessage(message: Buffer): void;
  /** the response headers, when they carry metadata (login tokens come this way on old firmware) */
  onHeaders?: (md: Metadata) => void;
  /** the call ended: null when OK, else the failure */
  onEnd(err: ServiceError | null): void;
}

export interface CallSpec {
  path: string;
  /** the serialized request */
  request: Buffer;
  metadata: Metadata;
  /** no deadline when absent (status streams) */
  timeoutMs?: number;
  signal?: AbortSignal;
}

export function callError(code: GrpcStatus, details: string, metadata = new Metadata()): ServiceError {
  return Object.assign(new Error(`${code} ${GrpcStatus[code]}: ${details}`), { code, details, metadata });
}

/** The gRPC status of an HTTP answer that is not gRPC (per the gRPC HTTP/2 protocol spec). */
function statusOfHttp(httpStatus: number): GrpcStatus {
  switch (httpStatus) {
    case 400:
      return GrpcStatus.INTERNAL;
    case 401:
      return GrpcStatus.UNAUTHENTICATED;
    case 403:
      return GrpcStatus.PERMISSION_DENIED;
    case 404:
      return GrpcStatus.UNIMPLEMENTED;
    case 429:
    case 502:
    case 503:
    case 504:
      return GrpcStatus.UNAVAILABLE;
    default:
      return GrpcStatus.UNKNOWN;
  }
}

const RESERVED = new Set([
  ':status',
  'content-type',
  'grpc-status',
  'grpc-message',
  'date',
  'te',
  'content-length',
]);

function metadataOf(h: http2.IncomingHttpHeaders): Metadata | null {
  let md: Metadata | null = null;
  for (const [k, v] of Object.entries(h)) {
    if (RESERVED.has(k) || k.startsWith(':') || k.endsWith('-bin') || v === undefined) continue;
    md ??= new Metadata();
    for (const one of Array.isArray(v) ? v : [v]) md.add(k, one);
  }
  return md;
}

function decodeMessage(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

export class GrpcSession {
  private readonly opts: Required<GrpcSessionOptions>;
  private session: http2.ClientHttp2Session | null = null;
  private open = 0;
  private pinger: NodeJS.Timeout | null = null;

  constructor(opts: GrpcSessionOptions) {
    this.opts = {
      keepaliveMs: 30_000,
      keepaliveTimeoutMs: 10_000,
      maxMessageBytes: 16 * 1024 * 1024,
      ...opts,
    };
  }

  /** Start a call; its end (and every message) goes to the handlers. */
  call(spec: CallSpec, h: CallHandlers): void {
    if (spec.signal?.aborted) return h.onEnd(callError(GrpcStatus.CANCELLED, 'Cancelled on client'));
    const headers: http2.OutgoingHttpHeaders = {
      ':method': 'POST',
      ':path': spec.path,
      'content-type': 'application/grpc',
      te: 'trailers',
    };
    if (spec.timeoutMs !== undefined) headers['grpc-timeout'] = `${Math.max(1, Math.ceil(spec.timeoutMs))}m`;
    for (const [k, v] of Object.entries(spec.metadata.getMap()))
      headers[k] = typeof v === 'string' ? v : v.toString('base64');
    let stream: http2.ClientHttp2Stream;
    try {
      stream = this.connect().request(headers);
    } catch (err) {
      // a session that closed between connect() and request(): the next call opens a new one
      this.drop();
      return h.onEnd(callError(GrpcStatus.UNAVAILABLE, (err as Error).message));
    }
    // Open calls keep the process alive (as grpc-js calls do); an idle session does not.
    if (this.open++ === 0) this.session?.ref();
    let buffered: Buffer | null = null;
    let code: GrpcStatus | null = null;
    let details = '';
    let ended = false;
    const end = (err: ServiceError | null): void => {
      if (ended) return;
      ended = true;
      if (--this.open === 0) this.session?.unref();
      if (timer) clearTimeout(timer);
      spec.signal?.removeEventListener('abort', abort);
      if (!stream.closed) stream.close(http2.constants.NGHTTP2_CANCEL);
      h.onEnd(err);
    };
    const abort = (): void => end(callError(GrpcStatus.CANCELLED, 'Cancelled on client'));
    const timer =
      spec.timeoutMs === undefined
        ? null
        : setTimeout(() => end(callError(GrpcStatus.DEADLINE_EXCEEDED, 'Deadline exceeded')), spec.timeoutMs);
    spec.signal?.addEventListener('abort', abort, { once: true });
    const readStatus = (hd: http2.IncomingHttpHeaders): void => {
      const s = hd['grpc-status'];
      if (s === undefined) return;
      code = Number(s) as GrpcStatus;
      details = decodeMessage(String(hd['grpc-message'] ?? ''));
    };
    stream.on('response', hd => {
      const httpStatus = Number(hd[':status']);
      if (httpStatus !== 200) return end(callError(statusOfHttp(httpStatus), `HTTP status ${httpStatus}`));
      if (!String(hd['content-type'] ?? '').startsWith('application/grpc'))
        return end(
          callError(GrpcStatus.UNKNOWN, `not a gRPC answer (content-type ${String(hd['content-type'])})`),
        );
      readStatus(hd); // trailers-only answer
      if (h.onHeaders) {
        const md = metadataOf(hd);
        if (md) h.onHeaders(md);
      }
    });
    stream.on('trailers', readStatus);
    stream.on('data', (chunk: Buffer) => {
      buffered = buffered === null ? chunk : Buffer.concat([buffered, chunk]);
      while (!ended && buffered !== null && buffered.length >= 5) {
        if (buffered[0] !== 0)
          return end(callError(GrpcStatus.INTERNAL, 'compressed message, but no encoding was negotiated'));
        const len: number = buffered.readUInt32BE(1);
        if (len > this.opts.maxMessageBytes)
          return end(
            callError(
              GrpcStatus.RESOURCE_EXHAUSTED,
              `message of ${len} bytes is over the ${this.opts.maxMessageBytes} byte limit`,
            ),
          );
        if (buffered.length < 5 + len) break;
        const message = buffered.subarray(5, 5 + len);
        buffered = buffered.length === 5 + len ? null : buffered.subarray(5 + len);
        h.onMessage(message);
      }
    });
    stream.on('error', (err: Error) => end(callError(GrpcStatus.UNAVAILABLE, err.message)));
    stream.on('close', () => {
      if (code === null) {
        const refused = stream.rstCode === http2.constants.NGHTTP2_REFUSED_STREAM;
        return end(
          callError(
            refused ? GrpcStatus.UNAVAILABLE : GrpcStatus.INTERNAL,
            `stream closed without a status (HTTP/2 code ${stream.rstCode})`,
          ),
        );
      }
      if (code !== GrpcStatus.OK) return end(callError(code, details));
      if (buffered !== null) return end(callError(GrpcStatus.INTERNAL, 'answer ended inside a message'));
      end(null);
    });
    const frame = Buffer.allocUnsafe(5 + spec.request.length);
    frame[0] = 0;
    frame.writeUInt32BE(spec.request.length, 1);
    spec.request.copy(frame, 5);
    stream.end(frame);
  }

  /** Close the session; calls in flight end UNAVAILABLE, the next call connects again. */
  close(): void {
    const s = this.session;
    this.drop();
    s?.destroy();
  }

  private connect(): http2.ClientHttp2Session {
    if (this.session && !this.session.closed && !this.session.destroyed) return this.session;
    const s = http2.connect(`http://${this.opts.address}`, { settings: { enablePush: false } });
    // Errors reach the calls through their streams; a session error only retires the session.
    s.on('error', () => this.drop(s));
    s.on('goaway', () => this.drop(s));
    s.on('close', () => this.drop(s));
    s.unref();
    this.session = s;
    if (this.opts.keepaliveMs > 0) {
      this.pinger = setInterval(() => this.ping(s), this.opts.keepaliveMs).unref();
    }
    return s;
  }

  /** A ping while calls are open: a dead peer (power cut, cable) shows even on a silent status stream. */
  private ping(s: http2.ClientHttp2Session): void {
    if (this.open === 0 || s.destroyed) return;
    const timeout = setTimeout(
      () => s.destroy(new Error('keepalive ping unanswered')),
      this.opts.keepaliveTimeoutMs,
    ).unref();
    try {
      s.ping(() => clearTimeout(timeout));
    } catch {
      clearTimeout(timeout);
    }
  }

  private drop(s?: http2.ClientHttp2Session): void {
    if (s !== undefined && s !== this.session) return;
    this.session = null;
    if (this.pinger) clearInterval(this.pinger);
    this.pinger = null;
  }
}
