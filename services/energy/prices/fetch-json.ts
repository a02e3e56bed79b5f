import { FleetError } from '../../../core/errors.ts';

/**
 * GET a JSON document with global fetch, aborted (headers and body alike) after timeoutMs.
 * Errors name the feed by host only: a URL may carry a token in its query.
 */
export async function fetchJson(url: string, timeoutMs: number, what: string): Promise<unknown> {
  const host = new URL(url).host;
  let res: Response;
  let text: string;
  try {
    res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs), headers: { accept: 'application/json' } });
    text = await res.text();
  } catch (err) {
    const name = (err as { name?: string }).name;
    if (name === 'TimeoutError' || name === 'AbortError') {
      throw new FleetError('timeout', `${what} ${host}: no complete answer within ${timeoutMs} ms`, { cause: err, details: { host } });
    }
    throw new FleetError('unavailable', `${what} ${host}: could not connect or the connection broke`, { cause: err, details: { host } });
  }
  if (!res.ok) throw new FleetError('unavailable', `${what} ${host}: answered HTTP ${res.status}; expected 2xx with a JSON body`, { details: { host } });
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw new FleetError('unavailable', `${what} ${host}: the answer is not JSON; expected a JSON body`, { cause: err, details: { host } });
  }
}
