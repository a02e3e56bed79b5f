import { status as GrpcStatus, type ServiceError } from '@grpc/grpc-js';
import { FleetError, type FleetErrorCode } from '../core/errors.ts';

/** Longest miner-provided text we pass on to callers (in details, never raw). */
const MAX_MINER_MESSAGE = 200;

function grpcCode(err: unknown): number | undefined {
  const code = (err as Partial<ServiceError> | null)?.code;
  return typeof code === 'number' ? code : undefined;
}

export function grpcStatusName(code: number): string {
  return (GrpcStatus as unknown as Record<number, string>)[code] ?? `CODE_${code}`;
}

/**
 * Map a grpc-js error to a FleetError a caller can act on. Only the status code and the
 * miner's own short status text (in details) survive; the raw error stays in `cause`.
 */
export function toFleetError(err: unknown, miner: string, rpc: string): FleetError {
  if (err instanceof FleetError) return err;
  const code = grpcCode(err);
  const minerText = String((err as Partial<ServiceError> | null)?.details ?? '').slice(0, MAX_MINER_MESSAGE);
  const details = { miner, rpc, grpc_status: code === undefined ? 'none' : grpcStatusName(code) };
  let fleetCode: FleetErrorCode;
  let message: string;
  switch (code) {
    case GrpcStatus.UNAVAILABLE:
      fleetCode = 'unreachable';
      message = `miner ${miner} is unreachable (${rpc}); check that it is powered, on the network and that port 50051 is open`;
      break;
    case GrpcStatus.DEADLINE_EXCEEDED:
      fleetCode = 'timeout';
      message = `miner ${miner} did not answer ${rpc} before the deadline`;
      break;
    case GrpcStatus.UNAUTHENTICATED:
    case GrpcStatus.PERMISSION_DENIED:
      fleetCode = 'auth_rejected';
      message = `miner ${miner} rejected our credentials (${rpc}); check the username and password configured for it`;
      break;
    case GrpcStatus.UNIMPLEMENTED:
      fleetCode = 'unsupported';
      // UNIMPLEMENTED says the miner lacks the call, not why: firmware reporting the newest API
      // answers it too for calls its platform does not carry (the API version check names old firmware).
      message = `miner ${miner} does not implement ${rpc}`;
      break;
    case GrpcStatus.CANCELLED:
      fleetCode = 'timeout';
      message = `call ${rpc} to miner ${miner} was cancelled`;
      break;
    default:
      fleetCode = 'miner_error';
      message = `miner ${miner} failed ${rpc}${minerText ? `: ${minerText}` : ''}`;
  }
  return new FleetError(fleetCode, message, { details: minerText ? { ...details, miner_message: minerText } : details, cause: err });
}
