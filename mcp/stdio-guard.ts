/**
 * JSON-RPC checks in front of the SDK's stdio transport. The SDK drops a line it cannot parse
 * or that fails its message schema (it only reports it to onerror), so a client that sent
 * `params: "x"`, `jsonrpc: "1.0"`, an object id or `id: 1e400` waited forever. Every line is
 * checked here first; a bad one is answered with the error JSON-RPC 2.0 names and never reaches
 * the server, a good one is passed on unchanged.
 */
import { PassThrough, type Readable } from 'node:stream';
import {
  INVALID_PARAMS,
  INVALID_REQUEST,
  PARSE_ERROR,
  STDIO_DEFAULT_MAX_BUFFER_SIZE,
  deserializeMessage,
} from '@modelcontextprotocol/server';

export interface LineVerdict {
  ok: boolean;
  /** the JSON-RPC error to answer when not ok */
  error?: { id: string | number | null; code: number; message: string };
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** A usable request id: a string or a finite number (MCP forbids null). */
const validId = (v: unknown): v is string | number => typeof v === 'string' || (typeof v === 'number' && Number.isFinite(v));

function invalid(id: string | number | null, code: number, message: string): LineVerdict {
  return { ok: false, error: { id, code, message } };
}

/** Check one line of the stdio stream (without its newline). */
export function checkJsonRpcLine(line: string): LineVerdict {
  let msg: unknown;
  try {
    msg = JSON.parse(line);
  } catch (err) {
    return invalid(null, PARSE_ERROR, `Parse error: the line is not JSON (${(err as Error).message}); send one JSON-RPC message per line`);
  }
  if (Array.isArray(msg)) return invalid(null, INVALID_REQUEST, 'Invalid Request: JSON-RPC batches are not supported; send one message per line');
  if (!isObject(msg)) return invalid(null, INVALID_REQUEST, 'Invalid Request: a JSON-RPC message must be a JSON object');
  const hasId = 'id' in msg;
  // The spec wants the id echoed when it can be read, else null.
  const id = hasId && validId(msg.id) ? msg.id : null;
  if (msg.jsonrpc !== '2.0')
    return invalid(id, INVALID_REQUEST, `Invalid Request: jsonrpc must be "2.0", got ${JSON.stringify(msg.jsonrpc) ?? 'nothing'}`);
  if (hasId && !validId(msg.id))
    return invalid(null, INVALID_REQUEST, 'Invalid Request: id must be a string or a finite number');
  if ('method' in msg) {
    if (typeof msg.method !== 'string' || msg.method === '')
      return invalid(id, INVALID_REQUEST, 'Invalid Request: method must be a non-empty string');
    if ('params' in msg && msg.params !== undefined) {
      if (Array.isArray(msg.params))
        return invalid(id, INVALID_PARAMS, `Invalid params: ${msg.method} takes named params (a JSON object), not an array`);
      if (!isObject(msg.params))
        return invalid(id, INVALID_REQUEST, 'Invalid Request: params must be a JSON object when present');
    }
  } else if (!hasId) {
    return invalid(null, INVALID_REQUEST, 'Invalid Request: a message needs a method (request, notification) or an id (response)');
  }
  // Whatever else the SDK's own message schema refuses is answered too, rather than dropped.
  try {
    deserializeMessage(line);
  } catch (err) {
    const first = (err as { issues?: { message?: string; path?: unknown[] }[] }).issues?.[0];
    const what = first ? `${(first.path ?? []).join('.') || 'message'}: ${first.message ?? 'invalid'}` : (err as Error).message;
    return invalid(id, INVALID_REQUEST, `Invalid Request: ${what}`);
  }
  return { ok: true };
}

/**
 * The stream the SDK transport should read: `input` with every invalid line removed and
 * answered on `output` instead. Lines are split on \n (a trailing \r is dropped, as the SDK does).
 */
export function guardJsonRpcInput(input: NodeJS.ReadableStream, output: NodeJS.WritableStream): Readable {
  const passed = new PassThrough();
  const answer = ({ id, code, message }: NonNullable<LineVerdict['error']>): void => {
    output.write(`${JSON.stringify({ jsonrpc: '2.0', id, error: { code, message } })}\n`);
  };
  let pending = '';
  // A line longer than the SDK would buffer is answered once and skipped up to its newline.
  let skipping = false;
  input.on('data', (chunk: Buffer | string) => {
    pending += chunk.toString();
    let nl: number;
    while ((nl = pending.indexOf('\n')) >= 0) {
      const line = pending.slice(0, nl).replace(/\r$/, '');
      pending = pending.slice(nl + 1);
      if (skipping) {
        skipping = false;
        continue;
      }
      if (line.trim() === '') continue;
      const verdict = checkJsonRpcLine(line);
      if (verdict.ok) passed.write(`${line}\n`);
      else answer(verdict.error!);
    }
    if (!skipping && pending.length > STDIO_DEFAULT_MAX_BUFFER_SIZE) {
      skipping = true;
      pending = '';
      answer({ id: null, code: PARSE_ERROR, message: `Parse error: a line longer than ${STDIO_DEFAULT_MAX_BUFFER_SIZE} bytes` });
    } else if (skipping) pending = '';
  });
  input.on('end', () => passed.end());
  input.on('close', () => passed.end());
  input.on('error', (err: Error) => passed.destroy(err));
  return passed;
}
