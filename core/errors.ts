/**
 * The one error type that crosses component boundaries. Callers branch on `code`;
 * the HTTP layer and the MCP layer each map it exactly once (api/error-handler.ts,
 * mcp/define-tool.ts). `message` is written for the person or model reading it and
 * must never carry raw gRPC/Redis/InfluxDB text or secrets.
 */
export const FLEET_ERROR_CODES = [
  // talking to miners
  'unreachable',
  'timeout',
  'auth_rejected',
  'unsupported',
  'miner_error',
  // caller input and state
  'invalid_argument',
  'not_found',
  'conflict',
  'forbidden',
  'unauthenticated',
  'rate_limited',
  'precondition_failed',
  // our own dependencies
  'unavailable',
  'internal',
] as const;

export type FleetErrorCode = (typeof FLEET_ERROR_CODES)[number];

export interface FleetErrorOptions {
  details?: Record<string, unknown>;
  cause?: unknown;
}

export class FleetError extends Error {
  readonly code: FleetErrorCode;
  readonly details: Record<string, unknown> | undefined;

  constructor(code: FleetErrorCode, message: string, options: FleetErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'FleetError';
    this.code = code;
    this.details = options.details;
  }
}

export function isFleetError(err: unknown): err is FleetError {
  return err instanceof FleetError;
}

/** Miner-facing codes: a poll or control call that failed for one of these is data, not a crash. */
export const MINER_FAILURE_CODES = ['unreachable', 'timeout', 'auth_rejected', 'unsupported', 'miner_error'] as const;
export type MinerFailureCode = (typeof MINER_FAILURE_CODES)[number];

export function minerFailureReason(err: unknown): MinerFailureCode {
  if (isFleetError(err) && (MINER_FAILURE_CODES as readonly string[]).includes(err.code)) {
    return err.code as MinerFailureCode;
  }
  return 'miner_error';
}
