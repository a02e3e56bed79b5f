// What every simulator RPC goes through, whichever transport carries it (grpc-server.ts on
// grpc-js, http2-grpc-server.ts on node:http2): the method table, routing to a miner, the per-miner
// faults (slow, intermittent), auth, the per-miner cache of encoded read-only responses, and the
// call counters. The transports only move bytes and statuses.
import { status } from '@grpc/grpc-js';

import type { Logger } from '../runtime/logger.ts';
import { bosServices } from '../proto/loader.ts';
import type { BosServiceName } from '../proto/types.ts';
import { UNAUTHENTICATED_METHODS } from './auth.ts';
import { SERVICE_HANDLERS } from './handlers/index.ts';
import type { CallContext, Handler, SimulatorRuntime, UnaryHandler } from './handlers/types.ts';
import { unit4 } from './random.ts';
import { RpcError } from './rpc-error.ts';
import type { VirtualMiner } from './virtual-miner.ts';

/** Where a call arrived: the address the client dialled, as it says and as the socket says. */
export interface CallOrigin {
  /** :authority of the request, e.g. "127.1.0.7:50051" */
  readonly authority: string;
  /** local address and port of the connection (computed only when the authority did not match) */
  local(): { address: string; port: number } | undefined;
}

export type MinerRouter = (origin: CallOrigin) => VirtualMiner | undefined;

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

/** The public surface both transports offer the fleet. */
export interface SimulatorServer {
  readonly stats: GrpcServerStats;
  /** Binds one address ("127.1.0.7:50051"). */
  bind(hostPort: string): Promise<void>;
  /** Stops listening on one address and closes its connections: clients get refused. */
  unbind(hostPort: string): void;
  isBound(hostPort: string): boolean;
  shutdown(graceMs?: number): Promise<void>;
}

export type Serialize = (value: unknown) => Buffer;
export type Deserialize = (bytes: Buffer) => unknown;

/** One RPC of the API with its handler (absent: the simulator does not implement it). */
export interface MethodEntry {
  path: string;
  requestStream: boolean;
  responseStream: boolean;
  serialize: Serialize;
  deserialize: Deserialize;
  handler: Handler | undefined;
  needsAuth: boolean;
}

/** Every RPC of every service, by service and method name. */
export function methodTable(): Array<{ service: BosServiceName; method: string; entry: MethodEntry }> {
  const services = bosServices();
  const out: Array<{ service: BosServiceName; method: string; entry: MethodEntry }> = [];
  for (const service of Object.keys(services) as BosServiceName[]) {
    const definition = services[service].service;
    for (const [method, md] of Object.entries(definition)) {
      const handler = SERVICE_HANDLERS[service][method];
      out.push({
        service,
        method,
        entry: {
          path: md.path,
          requestStream: md.requestStream,
          responseStream: md.responseStream,
          serialize: md.responseSerialize as Serialize,
          deserialize: md.requestDeserialize as Deserialize,
          handler,
          needsAuth:
            !UNAUTHENTICATED_METHODS.has(md.path) && (handler?.kind !== 'unary' || handler.auth !== false),
        },
      });
    }
  }
  return out;
}

export function unimplemented(path: string): RpcError {
  return new RpcError(status.UNIMPLEMENTED, `${path} is not implemented by the simulator`);
}

/** The status a failure becomes on the wire; anything but an RpcError is logged as a bug. */
export function toStatus(err: unknown, logger: Logger, path: string): { code: status; details: string } {
  if (err instanceof RpcError) return { code: err.code, details: err.message };
  logger.error({ err, path }, 'simulator handler failed');
  return { code: status.INTERNAL, details: err instanceof Error ? err.message : String(err) };
}

export class CallGate {
  readonly stats: GrpcServerStats = { calls: 0, errors: 0, cacheHits: 0 };
  readonly runtime: SimulatorRuntime;
  readonly logger: Logger;
  private readonly opts: GrpcServerOptions;
  private callSeq = 0;

  constructor(opts: GrpcServerOptions) {
    this.opts = opts;
    this.runtime = opts.runtime;
    this.logger = opts.logger;
  }

  /** Routes the call to its miner and runs `fn` after the miner's `slow` delay (if any). */
  delayed(origin: CallOrigin, fn: (miner: VirtualMiner | undefined) => void): void {
    const miner = this.opts.route(origin);
    const delay = miner?.fault('slow')?.delay_ms ?? 0;
    if (delay > 0) setTimeout(() => fn(miner), delay);
    else fn(miner);
  }

  /** The gates every call passes: known miner, reachability, intermittent faults, auth. */
  pass(
    origin: CallOrigin,
    miner: VirtualMiner | undefined,
    needsAuth: boolean,
    token: string | undefined,
  ): { miner: VirtualMiner; now: number } {
    if (!miner) throw new RpcError(status.UNAVAILABLE, `no simulated miner at ${origin.authority}`);
    const now = this.opts.runtime.now();
    if (!miner.reachable) throw new RpcError(status.UNAVAILABLE, 'miner is not reachable');
    const flaky = miner.fault('intermittent');
    if (flaky && unit4(miner.seed, miner.index, ++this.callSeq, 0x1e7) < flaky.failure_rate) {
      throw new RpcError(status.UNAVAILABLE, 'connection reset by peer');
    }
    if (needsAuth) {
      if (!token)
        throw new RpcError(
          status.UNAUTHENTICATED,
          'missing authorization token: call AuthenticationService/Login first',
        );
      if (!miner.sessions.touch(token, now))
        throw new RpcError(status.UNAUTHENTICATED, 'invalid or expired authorization token');
    }
    return { miner, now };
  }

  /** Whether a unary handler's answer comes from the per-miner cache of encoded responses. */
  caches(handler: UnaryHandler): boolean {
    return handler.cache === true && this.opts.cacheMs > 0;
  }

  /** Encoded response from the miner's cache, or built, encoded and cached now. */
  cached(handler: UnaryHandler, ctx: CallContext<unknown>, serialize: Serialize): Buffer {
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
