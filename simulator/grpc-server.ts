// The grpc-js transport of the simulator: one grpc-js Server for the whole fleet, bound to every
// miner's address. Routing, faults, auth and the response cache are call-gate.ts; this file maps
// grpc-js calls onto them. The service definitions are wrapped so a cached Buffer is written to
// the wire as-is.
import * as grpc from '@grpc/grpc-js';

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
import type { CallContext } from './handlers/types.ts';

export type { CallOrigin, GrpcServerOptions, GrpcServerStats, MinerRouter } from './call-gate.ts';

/** What routing needs of a grpc-js server call (grpc-js does not export its ServerSurfaceCall type). */
export interface SurfaceCall {
  getHost(): string;
  readonly metadata: grpc.Metadata;
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

function originOf(call: SurfaceCall): CallOrigin {
  return { authority: call.getHost(), local: () => localAddressOf(call) };
}

function tokenOf(metadata: grpc.Metadata): string | undefined {
  const header = metadata.get('authorization')[0];
  return typeof header === 'string' ? header : header?.toString('utf8');
}

export class SimulatorGrpcServer implements SimulatorServer {
  readonly server: grpc.Server;
  private readonly gate: CallGate;
  private readonly bound = new Set<string>();

  constructor(opts: GrpcServerOptions) {
    this.gate = new CallGate(opts);
    this.server = new grpc.Server({
      'grpc.enable_channelz': 0,
      'grpc.max_receive_message_length': 8 * 1024 * 1024,
      'grpc.keepalive_permit_without_calls': 1,
    });
    const definitions = new Map<string, Record<string, grpc.MethodDefinition<unknown, unknown>>>();
    const impls = new Map<string, grpc.UntypedServiceImplementation>();
    for (const { service, method, entry } of methodTable()) {
      let definition = definitions.get(service);
      let impl = impls.get(service);
      if (!definition || !impl) {
        definition = {};
        impl = {};
        definitions.set(service, definition);
        impls.set(service, impl);
      }
      const original = entry.serialize;
      definition[method] = {
        path: entry.path,
        requestStream: entry.requestStream,
        responseStream: entry.responseStream,
        requestDeserialize: entry.deserialize,
        requestSerialize: (v: unknown) => v as Buffer,
        responseDeserialize: (b: Buffer) => b,
        responseSerialize: (v: unknown) => (Buffer.isBuffer(v) ? v : original(v)),
      };
      impl[method] = this.implement(entry);
    }
    for (const [service, definition] of definitions)
      this.server.addService(
        definition as grpc.ServiceDefinition,
        impls.get(service) as grpc.UntypedServiceImplementation,
      );
  }

  get stats(): GrpcServerStats {
    return this.gate.stats;
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

  private implement(entry: MethodEntry): grpc.UntypedHandleCall {
    const { path, handler, needsAuth, serialize } = entry;
    const gate = this.gate;
    const { runtime, logger, stats } = gate;

    if (!entry.requestStream && !entry.responseStream) {
      return (call: grpc.ServerUnaryCall<unknown, unknown>, callback: grpc.sendUnaryData<unknown>) => {
        stats.calls++;
        const origin = originOf(call);
        gate.delayed(origin, routed => {
          if (call.cancelled) return; // the client gave up while the `slow` fault held the call
          try {
            if (!handler || handler.kind !== 'unary') throw unimplemented(path);
            const { miner, now } = gate.pass(origin, routed, needsAuth, tokenOf(call.metadata));
            const ctx: CallContext<unknown> = {
              miner,
              runtime,
              now,
              request: call.request,
              metadata: call.metadata,
              path,
            };
            if (gate.caches(handler)) {
              callback(null, gate.cached(handler, ctx, serialize));
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
                stats.errors++;
                callback(toStatus(err, logger, path));
              });
            } else send(result);
          } catch (err) {
            stats.errors++;
            callback(toStatus(err, logger, path));
          }
        });
      };
    }

    if (entry.responseStream && !entry.requestStream) {
      return (call: grpc.ServerWritableStream<unknown, unknown>) => {
        stats.calls++;
        const origin = originOf(call);
        gate.delayed(origin, routed => {
          if (call.cancelled) return; // the client gave up while the `slow` fault held the call
          try {
            if (!handler || handler.kind !== 'server_stream') throw unimplemented(path);
            const { miner, now } = gate.pass(origin, routed, needsAuth, tokenOf(call.metadata));
            handler.handle(
              { miner, runtime, now, request: call.request, metadata: call.metadata, path },
              call,
            );
          } catch (err) {
            stats.errors++;
            call.emit('error', toStatus(err, logger, path));
          }
        });
      };
    }

    if (entry.requestStream && !entry.responseStream) {
      return (call: grpc.ServerReadableStream<unknown, unknown>, callback: grpc.sendUnaryData<unknown>) => {
        stats.calls++;
        const origin = originOf(call);
        gate.delayed(origin, routed => {
          if (call.cancelled) return; // the client gave up while the `slow` fault held the call
          try {
            if (!handler || handler.kind !== 'client_stream') throw unimplemented(path);
            const { miner, now } = gate.pass(origin, routed, needsAuth, tokenOf(call.metadata));
            handler.handle(
              { miner, runtime, now, request: undefined, metadata: call.metadata, path },
              call,
              (err, value) => {
                if (err) {
                  stats.errors++;
                  callback(toStatus(err, logger, path));
                } else callback(null, value ?? {});
              },
            );
          } catch (err) {
            stats.errors++;
            callback(toStatus(err, logger, path));
          }
        });
      };
    }

    return (call: grpc.ServerDuplexStream<unknown, unknown>) => {
      call.emit('error', { code: grpc.status.UNIMPLEMENTED, details: unimplemented(path).message });
    };
  }
}
