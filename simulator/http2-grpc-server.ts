// The node:http2 transport of the simulator: gRPC over plain HTTP/2 without grpc-js on the server
// side. At thousands of miners polled on a small machine, grpc-js's server and its HTTP/2 layer
// cost about three quarters of the simulator's CPU per RPC (bench/README.md "Simulator
// capacity"); real miners are separate machines, so that CPU only starves the collector under test.
//
// The wire protocol (gRPC over HTTP/2): request `:path` /package.Service/Method, content-type
// application/grpc, messages framed as [compressed flag 0][uint32 BE length][bytes]; the answer is
// headers (:status 200, content-type application/grpc, metadata), DATA, then trailers grpc-status
// and a percent-encoded grpc-message — or, for an error before any message, one trailers-only
// HEADERS frame with the status. Routing, faults, auth and the response cache are call-gate.ts.
//
// One Http2Server takes the connections of one net.Server per miner address (emit('connection')),
// so unbinding an address closes exactly that address's listener and sessions.
import { EventEmitter } from 'node:events';
import http2 from 'node:http2';
import net from 'node:net';

import { Metadata, status } from '@grpc/grpc-js';

import {
  CallGate,
  methodTable,
  toStatus,
  unimplemented,
  type CallOrigin,
  type GrpcServerOptions,
  type GrpcServerStats,
  type MethodEntry,
  type SimulatorServer,
} from './call-gate.ts';
import type { CallContext, CallStatus } from './handlers/types.ts';
import { RpcError } from './rpc-error.ts';
import type { VirtualMiner } from './virtual-miner.ts';

/** Largest request message accepted (as grpc-js's server is configured in grpc-server.ts). */
const MAX_REQUEST_BYTES = 8 * 1024 * 1024;
const BIND_ATTEMPTS = 20;
const BIND_RETRY_MS = 50;

const OK_TRAILERS = { 'grpc-status': '0' } as const;

/** Headers that are transport, not call metadata. */
const NOT_METADATA = new Set([
  'content-type',
  'te',
  'user-agent',
  'grpc-timeout',
  'grpc-encoding',
  'grpc-accept-encoding',
  'accept-encoding',
  'content-length',
]);

const TIMEOUT_UNIT_MS: Record<string, number> = { H: 3_600_000, M: 60_000, S: 1_000, m: 1, u: 1e-3, n: 1e-6 };

/** grpc-timeout ("100m", "10S", up to 8 digits and a unit) in ms; undefined when absent or malformed. */
export function parseGrpcTimeout(value: string | string[] | undefined): number | undefined {
  if (typeof value !== 'string') return undefined;
  const m = /^(\d{1,8})([HMSmun])$/.exec(value);
  if (!m) return undefined;
  return Number(m[1]) * (TIMEOUT_UNIT_MS[m[2] as string] as number);
}

/** grpc-message: printable ASCII stays, everything else (and '%') is percent-encoded UTF-8. */
export function encodeGrpcMessage(text: string): string {
  if (/^[\x20-\x24\x26-\x7e]*$/.test(text)) return text;
  let out = '';
  for (const byte of Buffer.from(text, 'utf8')) {
    out +=
      byte >= 0x20 && byte <= 0x7e && byte !== 0x25
        ? String.fromCharCode(byte)
        : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

function metadataOf(headers: http2.IncomingHttpHeaders): Metadata {
  const md = new Metadata();
  for (const [key, value] of Object.entries(headers)) {
    if (value === undefined || key.startsWith(':') || NOT_METADATA.has(key)) continue;
    for (const one of Array.isArray(value) ? value : [value]) {
      if (key.endsWith('-bin')) md.add(key, Buffer.from(one, 'base64'));
      else md.add(key, one);
    }
  }
  return md;
}

function frame(message: Buffer): Buffer {
  const out = Buffer.allocUnsafe(5 + message.length);
  out[0] = 0;
  out.writeUInt32BE(message.length, 1);
  message.copy(out, 5);
  return out;
}

function splitHostPort(hostPort: string): { host: string; port: number } {
  const m = /^\[?([^\]]*)\]?:(\d+)$/.exec(hostPort);
  if (!m) throw new Error(`'${hostPort}' is not host:port`);
  return { host: m[1] as string, port: Number(m[2]) };
}

/** Reads length-prefixed messages from DATA chunks that may split or join them. */
class MessageReader {
  private pending: Buffer | null = null;

  /** The complete messages in `chunk` (plus what was left over); throws an RpcError on bad framing. */
  push(chunk: Buffer): Buffer[] {
    let buf = this.pending === null ? chunk : Buffer.concat([this.pending, chunk]);
    const out: Buffer[] = [];
    while (buf.length >= 5) {
      if (buf[0] !== 0)
        throw new RpcError(status.UNIMPLEMENTED, 'compressed messages are not supported (no grpc-encoding)');
      const len = buf.readUInt32BE(1);
      if (len > MAX_REQUEST_BYTES)
        throw new RpcError(
          status.RESOURCE_EXHAUSTED,
          `received message larger than max (${len} vs. ${MAX_REQUEST_BYTES})`,
        );
      if (buf.length < 5 + len) break;
      out.push(buf.subarray(5, 5 + len));
      buf = buf.subarray(5 + len);
    }
    this.pending = buf.length > 0 ? buf : null;
    return out;
  }

  /** Whether the request ended inside a message. */
  get partial(): boolean {
    return this.pending !== null;
  }
}

interface BoundAddress {
  readonly listener: net.Server;
  readonly sessions: Set<http2.ServerHttp2Session>;
}

export class SimulatorHttp2Server implements SimulatorServer {
  private readonly gate: CallGate;
  private readonly h2: http2.Http2Server;
  private readonly methods = new Map<string, MethodEntry>();
  private readonly bound = new Map<string, BoundAddress>();
  /** The address whose connection is being handed to the HTTP/2 server (its 'session' is synchronous). */
  private accepting: BoundAddress | undefined;

  constructor(opts: GrpcServerOptions) {
    this.gate = new CallGate(opts);
    for (const { entry } of methodTable()) this.methods.set(entry.path, entry);
    this.h2 = http2.createServer({ settings: { enablePush: false } });
    this.h2.on('session', session => {
      const address = this.accepting;
      if (!address) return;
      address.sessions.add(session);
      session.once('close', () => address.sessions.delete(session));
    });
    // A broken connection ends its calls through their streams; nothing else to do.
    this.h2.on('sessionError', () => undefined);
    this.h2.on('stream', (stream, headers) => this.onStream(stream, headers));
  }

  get stats(): GrpcServerStats {
    return this.gate.stats;
  }

  /** Binds one address ("127.1.0.7:50051"); retries briefly if the port is still being released. */
  async bind(hostPort: string): Promise<void> {
    if (this.bound.has(hostPort)) return;
    const { host, port } = splitHostPort(hostPort);
    const address: BoundAddress = {
      listener: net.createServer({ noDelay: true }, socket => {
        this.accepting = address;
        try {
          this.h2.emit('connection', socket);
        } finally {
          this.accepting = undefined;
        }
      }),
      sessions: new Set(),
    };
    this.bound.set(hostPort, address);
    for (let attempt = 0; ; attempt++) {
      try {
        await new Promise<void>((resolve, reject) => {
          const onError = (err: Error): void => reject(err);
          address.listener.once('error', onError);
          address.listener.listen({ host, port, exclusive: true }, () => {
            address.listener.off('error', onError);
            resolve();
          });
        });
        // unbound while the listen was under way
        if (this.bound.get(hostPort) !== address) address.listener.close();
        return;
      } catch (err) {
        if (attempt >= BIND_ATTEMPTS || this.bound.get(hostPort) !== address) {
          if (this.bound.get(hostPort) === address) this.bound.delete(hostPort);
          throw err;
        }
        await new Promise(r => setTimeout(r, BIND_RETRY_MS));
      }
    }
  }

  /** Stops listening on one address and closes its connections (GOAWAY): clients get refused. */
  unbind(hostPort: string): void {
    const address = this.bound.get(hostPort);
    if (!address) return;
    this.bound.delete(hostPort);
    if (address.listener.listening) address.listener.close();
    for (const session of address.sessions) session.close();
  }

  isBound(hostPort: string): boolean {
    return this.bound.has(hostPort);
  }

  async shutdown(graceMs = 2_000): Promise<void> {
    const addresses = [...this.bound.values()];
    this.bound.clear();
    const closed: Array<Promise<void>> = [];
    for (const address of addresses) {
      if (address.listener.listening) address.listener.close();
      for (const session of address.sessions)
        closed.push(new Promise<void>(resolve => session.close(() => resolve())));
    }
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.all(closed),
      new Promise<void>(resolve => {
        timer = setTimeout(() => {
          for (const address of addresses) for (const session of address.sessions) session.destroy();
          resolve();
        }, graceMs);
      }),
    ]);
    clearTimeout(timer);
  }

  private onStream(stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders): void {
    // a client reset (cancel) surfaces as 'close'; an 'error' without a listener would throw
    stream.on('error', () => undefined);
    const contentType = headers['content-type'];
    if (headers[':method'] !== 'POST' || !contentType?.startsWith('application/grpc')) {
      stream.respond({ ':status': 415 }, { endStream: true });
      return;
    }
    const path = headers[':path'] ?? '';
    const entry = this.methods.get(path);
    const call = new Http2Call(this.gate, stream, headers, entry, path);
    call.start();
  }
}

/** One gRPC call on one HTTP/2 stream. */
class Http2Call implements CallOrigin {
  readonly authority: string;
  private readonly gate: CallGate;
  private readonly stream: http2.ServerHttp2Stream;
  private readonly headers: http2.IncomingHttpHeaders;
  private readonly entry: MethodEntry | undefined;
  private readonly path: string;
  private readonly deadlineMs: number | undefined;
  private timer: NodeJS.Timeout | undefined;
  /** the final status went out (or the stream is gone) */
  private done = false;
  /** the response headers went out; the status then goes in trailers */
  private headersSent = false;
  private pendingStatus: CallStatus = { code: status.OK, details: '' };
  private responseHeaders: Record<string, string> | undefined;
  /** the object a streaming handler holds; gets 'cancelled' and 'close' */
  private handlerCall: EventEmitter | undefined;

  constructor(
    gate: CallGate,
    stream: http2.ServerHttp2Stream,
    headers: http2.IncomingHttpHeaders,
    entry: MethodEntry | undefined,
    path: string,
  ) {
    this.gate = gate;
    this.stream = stream;
    this.headers = headers;
    this.entry = entry;
    this.path = path;
    this.authority = headers[':authority'] ?? headers.host ?? '';
    const timeoutMs = parseGrpcTimeout(headers['grpc-timeout']);
    this.deadlineMs = timeoutMs === undefined ? undefined : performance.now() + timeoutMs;
  }

  local(): { address: string; port: number } | undefined {
    const socket = this.stream.session?.socket;
    if (!socket?.localAddress || !socket.localPort) return undefined;
    return { address: socket.localAddress.replace(/^::ffff:/, ''), port: socket.localPort };
  }

  start(): void {
    const { stream, entry } = this;
    stream.once('close', () => this.onClose());
    if (!entry) {
      this.finish({
        code: status.UNIMPLEMENTED,
        details: `The server does not implement the method ${this.path}`,
      });
      stream.resume();
      return;
    }
    const encoding = this.headers['grpc-encoding'];
    if (encoding !== undefined && encoding !== 'identity') {
      this.finish({ code: status.UNIMPLEMENTED, details: `message encoding ${encoding} is not supported` });
      stream.resume();
      return;
    }
    if (entry.requestStream && !entry.responseStream) return this.startClientStream(entry);
    if (entry.requestStream) {
      this.finish({ code: status.UNIMPLEMENTED, details: unimplemented(entry.path).message });
      stream.resume();
      return;
    }
    // Unary and server-streaming: exactly one request message, then the handler.
    const reader = new MessageReader();
    const messages: Buffer[] = [];
    stream.on('data', (chunk: Buffer) => {
      if (this.done) return;
      try {
        for (const m of reader.push(chunk)) messages.push(m);
      } catch (err) {
        this.fail(err);
      }
    });
    stream.once('end', () => {
      if (this.done) return;
      if (reader.partial) {
        this.finish({ code: status.INTERNAL, details: 'the request ended inside a message' });
        return;
      }
      if (messages.length !== 1) {
        // as grpc-js's server answers
        this.finish({
          code: status.UNIMPLEMENTED,
          details: `expected one request message for ${entry.path}, got ${messages.length}`,
        });
        return;
      }
      let request: unknown;
      try {
        request = entry.deserialize(messages[0] as Buffer);
      } catch (err) {
        this.finish({ code: status.INTERNAL, details: `error deserializing the request: ${String(err)}` });
        return;
      }
      this.gate.stats.calls++;
      this.gate.delayed(this, miner => {
        if (this.done) return; // cancelled or past its deadline while the `slow` fault held it
        try {
          if (entry.responseStream) this.runServerStream(entry, miner, request);
          else this.runUnary(entry, miner, request);
        } catch (err) {
          this.fail(err);
        }
        this.armDeadline();
      });
      this.armDeadline();
    });
  }

  private context(miner: VirtualMiner, now: number, request: unknown): CallContext<unknown> {
    const headers = this.headers;
    let metadata: Metadata | undefined;
    return {
      miner,
      runtime: this.gate.runtime,
      now,
      request,
      path: this.path,
      get metadata(): Metadata {
        metadata ??= metadataOf(headers);
        return metadata;
      },
    };
  }

  private token(): string | undefined {
    const value = this.headers.authorization;
    return typeof value === 'string' && value !== '' ? value : undefined;
  }

  private runUnary(entry: MethodEntry, routed: VirtualMiner | undefined, request: unknown): void {
    const handler = entry.handler;
    if (!handler || handler.kind !== 'unary') throw unimplemented(entry.path);
    const { miner, now } = this.gate.pass(this, routed, entry.needsAuth, this.token());
    const ctx = this.context(miner, now, request);
    if (this.gate.caches(handler)) {
      this.reply(this.gate.cached(handler, ctx, entry.serialize));
      return;
    }
    const result = handler.handle(ctx);
    const send = (value: object): void => {
      this.responseHeaders = ctx.responseHeaders;
      this.reply(entry.serialize(value));
    };
    if (result instanceof Promise) result.then(send, (err: unknown) => this.fail(err));
    else send(result);
  }

  private runServerStream(entry: MethodEntry, routed: VirtualMiner | undefined, request: unknown): void {
    const handler = entry.handler;
    if (!handler || handler.kind !== 'server_stream') throw unimplemented(entry.path);
    const { miner, now } = this.gate.pass(this, routed, entry.needsAuth, this.token());
    const call = new ServerStreamCallImpl(this, entry);
    this.handlerCall = call;
    handler.handle(this.context(miner, now, request), call);
  }

  private startClientStream(entry: MethodEntry): void {
    const handler = entry.handler;
    const reader = new MessageReader();
    // Messages that arrive before the handler listens (the `slow` fault delays it) wait here.
    const early: unknown[] = [];
    let ended = false;
    let call: ClientStreamCallImpl | undefined;
    const deliver = (message: unknown): void => {
      if (call) call.emit('data', message);
      else early.push(message);
    };
    this.stream.on('data', (chunk: Buffer) => {
      if (this.done) return;
      try {
        for (const m of reader.push(chunk)) deliver(entry.deserialize(m));
      } catch (err) {
        this.fail(err);
      }
    });
    this.stream.once('end', () => {
      ended = true;
      if (this.done) return;
      if (reader.partial) {
        this.finish({ code: status.INTERNAL, details: 'the request ended inside a message' });
        return;
      }
      call?.emit('end');
    });
    this.gate.stats.calls++;
    this.gate.delayed(this, routed => {
      if (this.done) return;
      try {
        if (!handler || handler.kind !== 'client_stream') throw unimplemented(entry.path);
        const { miner, now } = this.gate.pass(this, routed, entry.needsAuth, this.token());
        const c = new ClientStreamCallImpl();
        this.handlerCall = c;
        handler.handle({ ...this.context(miner, now, undefined), request: undefined }, c, (err, value) => {
          if (err) this.fail(err);
          else this.reply(entry.serialize(value ?? {}));
        });
        call = c;
        for (const m of early.splice(0)) if (!this.done) c.emit('data', m);
        if (ended && !this.done && !reader.partial) c.emit('end');
      } catch (err) {
        this.fail(err);
      }
      this.armDeadline();
    });
  }

  /** A deadline timer only for calls that did not finish synchronously (most unary calls do). */
  private armDeadline(): void {
    if (this.done || this.deadlineMs === undefined || this.timer) return;
    this.timer = setTimeout(
      () => {
        this.timer = undefined;
        if (this.done) return;
        this.finish({ code: status.DEADLINE_EXCEEDED, details: 'Deadline exceeded' });
        this.handlerCall?.emit('cancelled');
      },
      Math.max(0, this.deadlineMs - performance.now()),
    );
  }

  private onClose(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    if (!this.done) {
      // the client cancelled (RST_STREAM) or the connection went away
      this.done = true;
      this.handlerCall?.emit('cancelled');
    }
    this.handlerCall?.emit('close');
  }

  private fail(err: unknown): void {
    this.gate.stats.errors++;
    this.finish(toStatus(err, this.gate.logger, this.path));
  }

  private sendHeaders(): void {
    this.headersSent = true;
    const headers: http2.OutgoingHttpHeaders = { ':status': 200, 'content-type': 'application/grpc' };
    if (this.responseHeaders) Object.assign(headers, this.responseHeaders);
    this.stream.respond(headers, { waitForTrailers: true });
    this.stream.once('wantTrailers', () => {
      const s = this.pendingStatus;
      this.stream.sendTrailers(
        s.code === status.OK
          ? OK_TRAILERS
          : { 'grpc-status': String(s.code), 'grpc-message': encodeGrpcMessage(s.details) },
      );
    });
  }

  /** A unary answer: headers, the one message, trailers OK. */
  private reply(message: Buffer): void {
    if (this.done) return;
    this.done = true;
    if (this.stream.destroyed || this.stream.closed) return;
    if (!this.headersSent) this.sendHeaders();
    this.stream.end(frame(message));
  }

  /** One message of a streamed answer. */
  writeMessage(message: Buffer): boolean {
    if (this.done || this.stream.destroyed || this.stream.closed) return false;
    if (!this.headersSent) this.sendHeaders();
    return this.stream.write(frame(message));
  }

  /** The final status: in the trailers after a message, else a trailers-only answer. */
  finish(s: CallStatus): void {
    if (this.done) return;
    this.done = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.stream.destroyed || this.stream.closed) return;
    if (this.headersSent) {
      this.pendingStatus = s;
      this.stream.end();
      return;
    }
    const headers: http2.OutgoingHttpHeaders = {
      ':status': 200,
      'content-type': 'application/grpc',
      'grpc-status': String(s.code),
    };
    if (s.details) headers['grpc-message'] = encodeGrpcMessage(s.details);
    if (this.responseHeaders) Object.assign(headers, this.responseHeaders);
    this.stream.respond(headers, { endStream: true });
    // a request still arriving (client streaming) is read and dropped so its stream can close
    this.stream.resume();
  }
}

/** The call object server-streaming handlers get (the surface they use of grpc-js's). */
class ServerStreamCallImpl extends EventEmitter {
  private readonly call: Http2Call;
  private readonly entry: MethodEntry;

  constructor(call: Http2Call, entry: MethodEntry) {
    super();
    this.call = call;
    this.entry = entry;
    // as in grpc-js, emitting 'error' with a status ends the call with it
    this.on('error', (s: CallStatus) => call.finish({ code: s.code, details: s.details }));
  }

  write(message: unknown): boolean {
    return this.call.writeMessage(this.entry.serialize(message));
  }

  end(): void {
    this.call.finish({ code: status.OK, details: '' });
  }
}

/** The call object client-streaming handlers get: 'data' (decoded messages), 'end', 'cancelled'. */
class ClientStreamCallImpl extends EventEmitter {}
