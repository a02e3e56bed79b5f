// The shape of an RPC handler of the simulator. call-gate.ts does routing (which miner), faults,
// auth and caching, for either transport; a handler only maps a request on one miner to a response.
import type * as grpc from '@grpc/grpc-js';

import type { Logger } from '../../runtime/logger.ts';
import type { FirmwareBehaviour, ParsedFirmwareImage } from '../firmware-image.ts';
import type { RpcError } from '../rpc-error.ts';
import type { VirtualMiner } from '../virtual-miner.ts';

/** What handlers may ask of the fleet (implemented by fleet.ts). */
export interface SimulatorRuntime {
  now(): number;
  readonly logger: Logger;
  /** Password a factory reset restores. */
  readonly defaultPassword: string;
  /** Reboots the miner shortly after the current response is sent. */
  reboot(miner: VirtualMiner, reason: string): void;
  /** Starts the upgrade reboot after a good image; the miner comes back per `behaviour`. */
  upgrade(miner: VirtualMiner, image: ParsedFirmwareImage, behaviour: FirmwareBehaviour): void;
  /** The miner goes back to stock firmware: it reboots and no longer serves this API. */
  restoreStock(miner: VirtualMiner): void;
}

export interface CallContext<Req> {
  miner: VirtualMiner;
  runtime: SimulatorRuntime;
  now: number;
  request: Req;
  metadata: grpc.Metadata;
  path: string;
  /** Response initial metadata to send with the answer (Login sets `authorization`). */
  responseHeaders?: Record<string, string>;
}

export type UnaryResult = object;

export interface UnaryHandler {
  kind: 'unary';
  /** Needs a session token (default true). */
  auth?: boolean;
  /** The response depends only on (miner state, time): cache the encoded bytes for ~1 s. */
  cache?: boolean;
  handle(ctx: CallContext<unknown>): UnaryResult | Promise<UnaryResult>;
}

/** A status a stream handler ends its call with: `call.emit('error', { code, details })`. */
export interface CallStatus {
  code: grpc.status;
  details: string;
}

/**
 * What a server-streaming handler uses of its call: the part of grpc-js's ServerWritableStream
 * that the node:http2 transport also offers. Events: 'cancelled' (client went away or deadline),
 * 'close', 'error'.
 */
export interface ServerStreamCall<Res> {
  write(message: Res): boolean;
  end(): void;
  emit(event: 'error', status: CallStatus): boolean;
  on(event: 'cancelled' | 'close' | 'error', listener: (...args: unknown[]) => void): unknown;
}

/** What a client-streaming handler uses of its call: 'data' (each decoded message), 'end', 'cancelled'. */
export interface ClientStreamCall<Req> {
  on(event: 'data', listener: (message: Req) => void): unknown;
  on(event: 'end' | 'cancelled', listener: () => void): unknown;
}

export interface ServerStreamHandler {
  kind: 'server_stream';
  handle(ctx: CallContext<unknown>, call: ServerStreamCall<unknown>): void;
}

export interface ClientStreamHandler {
  kind: 'client_stream';
  handle(
    ctx: CallContext<undefined>,
    call: ClientStreamCall<unknown>,
    done: (err: RpcError | null, value?: UnaryResult) => void,
  ): void;
}

export type Handler = UnaryHandler | ServerStreamHandler | ClientStreamHandler;
export type ServiceHandlers = Record<string, Handler>;

/** Typed helper for a unary handler: `Req` is the decoded request, `Res` the response input type. */
export function unary<Req, Res extends object>(
  handle: (ctx: CallContext<Req>) => Res | Promise<Res>,
  opts: { auth?: boolean; cache?: boolean } = {},
): UnaryHandler {
  return { kind: 'unary', ...opts, handle: handle as (ctx: CallContext<unknown>) => Res | Promise<Res> };
}

export function serverStream<Req, Res>(
  handle: (ctx: CallContext<Req>, call: ServerStreamCall<Res>) => void,
): ServerStreamHandler {
  return { kind: 'server_stream', handle: handle as ServerStreamHandler['handle'] };
}

export function clientStream<Req, Res extends object>(
  handle: (
    ctx: CallContext<undefined>,
    call: ClientStreamCall<Req>,
    done: (err: RpcError | null, value?: Res) => void,
  ) => void,
): ClientStreamHandler {
  return { kind: 'client_stream', handle: handle as ClientStreamHandler['handle'] };
}
