import { status } from '@grpc/grpc-js';

/** An error that becomes a gRPC status on the wire (thrown by miner state and handlers). */
export class RpcError extends Error {
  readonly code: status;

  constructor(code: status, message: string) {
    super(message);
    this.name = 'RpcError';
    this.code = code;
  }
}

export const invalidArgument = (message: string): RpcError => new RpcError(status.INVALID_ARGUMENT, message);
export const notFound = (message: string): RpcError => new RpcError(status.NOT_FOUND, message);
export const failedPrecondition = (message: string): RpcError =>
  new RpcError(status.FAILED_PRECONDITION, message);
export const unavailable = (message: string): RpcError => new RpcError(status.UNAVAILABLE, message);
export const unauthenticated = (message: string): RpcError => new RpcError(status.UNAUTHENTICATED, message);
export const unimplemented = (message: string): RpcError => new RpcError(status.UNIMPLEMENTED, message);
