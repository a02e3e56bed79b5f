/**
 * Defects the contract suites find that other engineers are fixing now (issue #15). A failure
 * matching one is counted and reported, not failed, so the suites stay green meanwhile and
 * catch everything else. Each entry names its issue item: delete the entry with the fix, and
 * the suite then guards it.
 */

export interface Observed {
  /** `GET /api/v1/fleet/series` (OpenAPI key) or `mcp query_telemetry` */
  op: string;
  /** what the suite saw: an HTTP status, or 'internal' for an MCP internal tool error */
  outcome: number | 'internal';
  /** the inputs sent (query parameters, path parameters, body or tool arguments) */
  input: Record<string, unknown>;
  /** the answer's text (body or tool error), when there is one */
  text?: string;
}

export interface KnownDefect {
  item: string;
  matches(o: Observed): boolean;
}

// eslint-disable-next-line no-control-regex
const CONTROL_CHARS = /[\r\n\u0000]/;
/** A duration too long for InfluxDB (9999999h): 5 or more digits before its unit. */
const HUGE_DURATION = /^-?\d{5,}(?:\.\d+)?[a-zµ]+$/i;

const texts = (v: unknown): string[] =>
  typeof v === 'string' ? [v] : Array.isArray(v) ? v.flatMap(texts) : v && typeof v === 'object' ? Object.values(v).flatMap(texts) : [];

const keysDeep = (v: unknown): string[] =>
  Array.isArray(v) ? v.flatMap(keysDeep) : v && typeof v === 'object' ? Object.entries(v).flatMap(([k, x]) => [k, ...keysDeep(x)]) : [];

export const KNOWN_DEFECTS: KnownDefect[] = [
  {
    // TODO(contract fuzz finding, reported to the lead with #15): fastify's JSON parser refuses a
    // body with a `__proto__` or `constructor.prototype` key (prototype poisoning; refusing is
    // right) as "Body is not valid JSON but content-type is set to 'application/json'", which is
    // not true; on /mcp it arrives as an HTTP 400 with the REST error body instead of a JSON-RPC
    // error or tool result. The parser drops the cause, so api/errors.ts cannot tell the two apart;
    // the fix is a JSON content-type parser in api/app.ts (outside this suite's brief).
    item: 'finding: a __proto__ / constructor.prototype key is answered "Body is not valid JSON"',
    matches: o =>
      /Body is not valid JSON/.test(o.text ?? '') && keysDeep(o.input).some(k => k === '__proto__' || k === 'constructor'),
  },
  {
    // TODO(contract fuzz finding, reported to the lead with #15): a request line or headers over
    // Node's 16 KB limit (a long query string) are answered by fastify's default client-error
    // handler with 431 `{"error":"Request Header Fields Too Large","message":…,"statusCode":431}`,
    // not the API's error body. The fix is a `clientErrorHandler` in the Fastify options of
    // api/app.ts (outside this suite's brief).
    item: 'finding: 431 for an over-long URL has fastify\'s body, not { error: { code, message } }',
    matches: o => o.outcome === 431,
  },
  {
    // TODO(#15 item 3): inputs that reach InfluxDB (CR/LF/NUL in model/site/…, step=9999999h) answer 500
    // on /fleet/series, /miners/{id}/telemetry and MCP query_telemetry; being fixed at the edge.
    item: '#15 item 3: 500 from inputs that reach InfluxDB (control characters, step=9999999h)',
    matches: o =>
      (o.outcome === 500 || o.outcome === 'internal') &&
      ['GET /api/v1/fleet/series', 'GET /api/v1/miners/{id}/telemetry', 'mcp query_telemetry'].includes(o.op) &&
      texts(o.input).some(t => CONTROL_CHARS.test(t) || HUGE_DURATION.test(t.trim())),
  },
];

export function knownDefect(o: Observed): KnownDefect | null {
  return KNOWN_DEFECTS.find(k => k.matches(o)) ?? null;
}
