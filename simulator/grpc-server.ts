// One grpc-js Server for the whole fleet, bound to every miner's address. Each call is routed to
// its miner by the address the client dialled (the :authority grpc-js clients send, e.g.
// "127.1.0.7:50051"; fallbacks: the port in port mode, then the socket's local address). Then
// come the per-miner faults (slow, intermittent), auth, and the handler. Responses of read-only
// RPCs are cached per miner as encoded bytes for ~1 s; the service definitions are wrapped so a
// Buffer is written to the wire as-is.
import * as grpc from '@grpc/grpc-js';

import type { Logger } from '../runtime/logger.ts';
import { bosServices } from '../proto/loader.ts';
import type { BosServiceName } from '../proto/types.ts';
import { UNAUTHENTICATED_METHODS } from './auth.ts';
import { SERVICE_HANDLERS } from './handlers/index.ts';
import type { CallContext, Handler, SimulatorRuntime, UnaryHandler } from './handlers/types.ts';
import { unit4 } from './random.ts';
import { RpcError } from './rpc-error.ts';
import type { VirtualMiner } from './virtual-miner.ts';

/** What routing needs of a server call (grpc-js does not export its ServerSurfaceCall type). */
export interface SurfaceCall {
  getHost(): string;
  readonly metadata: grpc.Metadata;
}

export type MinerRouter = (call: SurfaceCall) => VirtualMiner | undefined;

export interface GrpcServerOptions {
  runtime: SimulatorRuntime;
  route: MinerRouter;
  /** How long encoded read-only responses are reused, ms (0 disables the cache). */
  cacheMs: number;
  logger: Logger;
}

export interface GrpcServerStats {
  calls: number;
  errors: number;
  cacheHits: number;
}

type Serialize = (value: unknown) => Buffer;

function toStatus(err: unknown, logger: Logger, path: string): Partial<grpc.StatusObject> {
  if (err instanceof RpcError) return { code: err.code, details: err.message };
  logger.error({ err, path }, 'simulator handler failed');
  return { code: grpc.status.INTERNAL, details: err instanceof Error ? err.message : String(err) };
}

/** The local address of the socket a call arrived on (grpc-js internals; best effort). */
export function localAddressOf(call: SurfaceCall): { address: string; port: number } | undefined {
  try {
    const inner = (
      call as unknown as {
        call?: { stream?: { session?: { socket?: { localAddress?: string; localPort?: number } } } };
      }
    ).call;
    const socket = inner?.stream?.session?.socket;
    if (socket?.localAddress && socket.localPort)
      return { address: socket.localAddress.replace(/^::ffff:/, ''), port: socket.localPort };
  } catch {
    // not available in this grpc-js version
  }
  return undefined;
}

export class SimulatorGrpcServer {
  readonly server: grpc.Server;
  readonly stats: GrpcServerStats = { calls: 0, errors: 0, cacheHits: 0 };
  private readonly opts: GrpcServerOptions;
  private readonly bound = new Set<string>();
  private callSeq = 0;

  constructor(opts: GrpcServerOptions) {
    this.opts = opts;
    this.server = new grpc.Server({
      'grpc.enable_channelz': 0,
      'grpc.max_receive_message_length': 8 * 1024 * 1024,
      'grpc.keepalive_permit_without_calls': 1,
    });
    const services = bosServices();
    for (const name of Object.keys(services) as BosServiceName[]) {
      const definition = services[name].service as grpc.ServiceDefinition;
      const handlers = SERVICE_HANDLERS[name];
      const wrapped: Record<string, grpc.MethodDefinition<unknown, unknown>> = {};
      const impl: grpc.UntypedServiceImplementation = {};
      for (const [method, md] of Object.entries(definition)) {
        const original = md.responseSerialize as Serialize;
        wrapped[method] = {
          ...md,
          responseSerialize: (v: unknown) => (Buffer.isBuffer(v) ? v : original(v)),
        };
        impl[method] = this.implement(md, handlers[method], original);
      }
      this.server.addService(wrapped as grpc.ServiceDefinition, impl);
    }
  }

  /** Binds one address ("127.1.0.7:50051"); retries briefly if the port is still being released. */
  async bind(hostPort: string): Promise<void> {
    if (this.bound.has(hostPort)) return;
    this.bound.add(hostPort);
    for (let attempt = 0; ; attempt++) {
      try {
        await new Promise<number>((resolve, reject) =>
          this.server.bindAsync(hostPort, grpc.ServerCredentials.createInsecure(), (err, port) =>
            err ? reject(err) : resolve(port),
          ),
        );
        return;
      } catch (err) {
        if (attempt >= 20 || !this.bound.has(hostPort)) {
          this.bound.delete(hostPort);
          throw err;
        }
        await new Promise(r => setTimeout(r, 50));
      }
    }
  }

  /** Stops listening on one address and closes its connections: clients get refused. */
  unbind(hostPort: string): void {
    if (!this.bound.delete(hostPort)) return;
    this.server.unbind(hostPort);
  }

  isBound(hostPort: string): boolean {
    return this.bound.has(hostPort);
  }

  async shutdown(graceMs = 2_000): Promise<void> {
    this.bound.clear();
    await new Promise<void>(resolve => {
      const timer = setTimeout(() => {
        this.server.forceShutdown();
        resolve();
      }, graceMs);
      this.server.tryShutdown(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  /** Applies the gates every call passes: known miner, reachability, faults, auth. */
  private gate(
    call: SurfaceCall,
    miner: VirtualMiner | undefined,
    path: string,
    needsAuth: boolean,
  ): { miner: VirtualMiner; now: number } {
    if (!miner) throw new RpcError(grpc.status.UNAVAILABLE, `no simulated miner at ${call.getHost()}`);
    const now = this.opts.runtime.now();
    if (!miner.reachable) throw new RpcError(grpc.status.UNAVAILABLE, 'miner is not reachable');
    const flaky = miner.fault('intermittent');
    if (flaky && unit4(miner.seed, miner.index, ++this.callSeq, 0x1e7) < flaky.failure_rate) {
      throw new RpcError(grpc.status.UNAVAILABLE, 'connection reset by peer');
    }
    if (needsAuth) {
      const header = call.metadata.get('authorization')[0];
      const token = typeof header === 'string' ? header : header?.toString('utf8');
      if (!token)
        throw new RpcError(
          grpc.status.UNAUTHENTICATED,
          'missing authorization token: call AuthenticationService/Login first',
        );
      if (!miner.sessions.touch(token, now))
        throw new RpcError(grpc.status.UNAUTHENTICATED, 'invalid or expired authorization token');
    }
    return { miner, now };
  }

  /** Routes the call to its miner and runs `fn` after the miner's `slow` delay (if any). */
  private delayed(call: SurfaceCall, fn: (miner: VirtualMiner | undefined) => void): void {
    const miner = this.opts.route(call);
    const delay = miner?.fault('slow')?.delay_ms ?? 0;
    if (delay > 0) setTimeout(() => fn(miner), delay);
    else fn(miner);
  }

  private implement(
    md: grpc.MethodDefinition<unknown, unknown>,
    handler: Handler | undefined,
    serialize: Serialize,
  ): grpc.UntypedHandleCall {
    const path = md.path;
    const { runtime, logger } = this.opts;
    const needsAuth =
      !UNAUTHENTICATED_METHODS.has(path) && (handler?.kind !== 'unary' || handler.auth !== false);
    const unimplemented = (): RpcError =>
      new RpcError(grpc.status.UNIMPLEMENTED, `${path} is not implemented by the simulator`);

    if (!md.requestStream && !md.responseStream) {
      return (call: grpc.ServerUnaryCall<unknown, unknown>, callback: grpc.sendUnaryData<unknown>) => {
        this.stats.calls++;
        this.delayed(call, routed => {
          try {
            if (!handler || handler.kind !== 'unary') throw unimplemented();
            const { miner, now } = this.gate(call, routed, path, needsAuth);
            const ctx: CallContext<unknown> = {
              miner,
              runtime,
              now,
              request: call.request,
              metadata: call.metadata,
              path,
            };
            if (handler.cache && this.opts.cacheMs > 0) {
              callback(null, this.cached(handler, ctx, serialize));
              return;
            }
            const result = handler.handle(ctx);
            const send = (value: object): void => {
              if (ctx.responseHeaders) {
                const md2 = new grpc.Metadata();
                for (const [k, v] of Object.entries(ctx.responseHeaders)) md2.set(k, v);
                call.sendMetadata(md2);
              }
              callback(null, value);
            };
            if (result instanceof Promise) {
              result.then(send, (err: unknown) => {
                this.stats.errors++;
                callback(toStatus(err, logger, path));
              });
            } else send(result);
          } catch (err) {
            this.stats.errors++;
            callback(toStatus(err, logger, path));
          }
        });
      };
    }

    if (md.responseStream && !md.requestStream) {
      return (call: grpc.ServerWritableStream<unknown, unknown>) => {
        this.stats.calls++;
        this.delayed(call, routed => {
          try {
            if (!handler || handler.kind !== 'server_stream') throw unimplemented();
            const { miner, now } = this.gate(call, routed, path, needsAuth);
            handler.handle(
              { miner, runtime, now, request: call.request, metadata: call.metadata, path },
              call,
            );
          } catch (err) {
            this.stats.errors++;
            call.emit('error', toStatus(err, logger, path));
          }
        });
      };
    }

    if (md.requestStream && !md.responseStream) {
      return (call: grpc.ServerReadableStream<unknown, unknown>, callback: grpc.sendUnaryData<unknown>) => {
        this.stats.calls++;
        this.delayed(call, routed => {
          try {
            if (!handler || handler.kind !== 'client_stream') throw unimplemented();
            const { miner, now } = this.gate(call, routed, path, needsAuth);
            handler.handle(
              { miner, runtime, now, request: undefined, metadata: call.metadata, path },
              call,
              (err, value) => {
                if (err) {
                  this.stats.errors++;
                  callback(toStatus(err, logger, path));
                } else callback(null, value ?? {});
              },
            );
          } catch (err) {
            this.stats.errors++;
            callback(toStatus(err, logger, path));
          }
        });
      };
    }

    return (call: grpc.ServerDuplexStream<unknown, unknown>) => {
      call.emit('error', {
        code: grpc.status.UNIMPLEMENTED,
        details: `${path} is not implemented by the simulator`,
      });
    };
  }

  /** Encoded response from the miner's cache, or built, encoded and cached now. */
  private cached(handler: UnaryHandler, ctx: CallContext<unknown>, serialize: Serialize): Buffer {
    const { miner, now, path } = ctx;
    const hit = miner.responseCache.get(path);
    if (hit && hit.expiresMs > now && hit.version === miner.version) {
      this.stats.cacheHits++;
      return hit.buf;
    }
    const value = handler.handle(ctx);
    if (value instanceof Promise) throw new Error(`cached handler ${path} must be synchronous`);
    const buf = serialize(value);
    miner.responseCache.set(path, { buf, expiresMs: now + this.opts.cacheMs, version: miner.version });
    return buf;
  }
}
