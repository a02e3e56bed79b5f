import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { hasZodFastifySchemaValidationErrors } from 'fastify-type-provider-zod';
import { isFleetError, type FleetError, type FleetErrorCode } from '../core/errors.ts';

/**
 * The one place where errors become HTTP responses (practice 10). Every error body is
 * `{ error: { code, message, details } }`:
 *  - FleetError: status from HTTP_STATUS; the message is written for the caller; details are
 *    kept below 500 and dropped from 5xx answers (they may carry raw dependency text).
 *  - request validation (zod): 400 invalid_argument naming each field and the expected form.
 *  - fastify's own 4xx (bad JSON, media type, body too large): passed through with their message.
 *  - anything else: logged in full, answered with a generic 500 — raw Redis, InfluxDB or gRPC
 *    text never reaches a client.
 */
export const HTTP_STATUS: Record<FleetErrorCode, number> = {
  unreachable: 502,
  timeout: 504,
  auth_rejected: 502,
  unsupported: 422,
  miner_error: 502,
  invalid_argument: 400,
  not_found: 404,
  conflict: 409,
  forbidden: 403,
  unauthenticated: 401,
  rate_limited: 429,
  precondition_failed: 409,
  unavailable: 503,
  internal: 500,
};

export interface ErrorBodyShape {
  error: { code: FleetErrorCode; message: string; details: Record<string, unknown> };
}

export function errorBody(
  code: FleetErrorCode,
  message: string,
  details: Record<string, unknown> = {},
): ErrorBodyShape {
  return { error: { code, message, details } };
}

/** The FleetError code for a plain HTTP status (fastify's own errors, plugins). */
function codeForStatus(status: number): FleetErrorCode {
  if (status === 401) return 'unauthenticated';
  if (status === 403) return 'forbidden';
  if (status === 404) return 'not_found';
  if (status === 409) return 'conflict';
  if (status === 429) return 'rate_limited';
  if (status === 503) return 'unavailable';
  if (status >= 500) return 'internal';
  return 'invalid_argument';
}

export interface FieldProblem {
  field: string;
  message: string;
}

/** Zod validation issues -> one line per field: `querystring.limit: expected an integer between 1 and 500`. */
export function validationProblems(err: FastifyError): FieldProblem[] {
  const where = err.validationContext ?? 'request';
  const out: FieldProblem[] = [];
  for (const v of err.validation ?? []) {
    const path = v.instancePath.split('/').filter(Boolean).join('.');
    const field = path ? `${where}.${path}` : where;
    const params = v.params as { keys?: unknown };
    if (v.keyword === 'unrecognized_keys' && Array.isArray(params.keys)) {
      for (const k of params.keys)
        out.push({
          field: `${field}.${String(k)}`,
          message: `unknown parameter '${String(k)}'; check the spelling against /docs`,
        });
      continue;
    }
    out.push({ field, message: v.message ?? 'invalid value' });
  }
  return out;
}

function validationBody(err: FastifyError): ErrorBodyShape {
  const fields = validationProblems(err);
  const head = fields.slice(0, 3).map(f => `${f.field}: ${f.message}`);
  const more = fields.length > 3 ? ` (and ${fields.length - 3} more)` : '';
  return errorBody('invalid_argument', `${head.join('; ')}${more}`, { fields });
}

/** Internal addresses (`at http://influx:8086`, `redis://…`) stay in the log, not in answers. */
function withoutAddresses(message: string): string {
  return message
    .replace(/\s+at\s+[a-z][a-z0-9+.-]*:\/\/[^\s)]+/gi, '')
    .replace(/\b[a-z][a-z0-9+.-]*:\/\/[^\s)]+/gi, '(address hidden)');
}

function sendFleetError(err: FleetError, req: FastifyRequest, reply: FastifyReply): FastifyReply {
  const status = HTTP_STATUS[err.code];
  if (status >= 500) {
    req.log.error(
      { err, code: err.code, details: err.details, method: req.method, route: req.routeOptions.url },
      'request failed',
    );
    const message =
      err.code === 'internal'
        ? 'internal error; the server log has the details'
        : withoutAddresses(err.message);
    return reply.code(status).send(errorBody(err.code, message));
  }
  // Validated arguments should never build a statement the store refuses: keep its text for us.
  if (err.details?.store_rejected === true)
    req.log.warn({ err, method: req.method, route: req.routeOptions.url }, 'store refused a query');
  const retryAfter = err.details?.retry_after_s;
  if (status === 429 && typeof retryAfter === 'number' && !reply.hasHeader('retry-after'))
    reply.header('retry-after', String(retryAfter));
  return reply.code(status).send(errorBody(err.code, err.message, err.details ?? {}));
}

export function installErrorHandler(app: FastifyInstance): void {
  app.setErrorHandler((err: FastifyError, req, reply) => {
    if (isFleetError(err)) return sendFleetError(err, req, reply);
    if (hasZodFastifySchemaValidationErrors(err)) return reply.code(400).send(validationBody(err));
    if (err.code === 'FST_ERR_RESPONSE_SERIALIZATION') {
      req.log.error(
        { err, cause: (err as { cause?: unknown }).cause, route: req.routeOptions.url },
        'response does not match its schema',
      );
      return reply.code(500).send(errorBody('internal', 'internal error; the server log has the details'));
    }
    const status = typeof err.statusCode === 'number' ? err.statusCode : 500;
    if (status < 500) return reply.code(status).send(errorBody(codeForStatus(status), err.message));
    req.log.error({ err, method: req.method, route: req.routeOptions.url }, 'unhandled error');
    return reply.code(500).send(errorBody('internal', 'internal error; the server log has the details'));
  });

  app.setNotFoundHandler((req, reply) =>
    reply
      .code(404)
      .send(
        errorBody(
          'not_found',
          `no route ${req.method} ${req.url.split('?')[0]}; the API is described at /docs`,
        ),
      ),
  );
}
