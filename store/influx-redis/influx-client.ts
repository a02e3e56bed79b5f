import { FleetError } from '../../core/errors.ts';

/**
 * Our InfluxQL client over the v1-compatible HTTP API (`/query`, `/ping`) that InfluxDB
 * 1.x, 2.x (virtual DBRP) and 3.x all serve. Writes go through influx-writer.ts.
 */
export interface InfluxSettings {
  url: string;
  db: string;
  /** basic: user:password (1.x; any user + token on 2.x/3.x); token: `Authorization: Token` (2.x/3.x only). */
  auth: 'basic' | 'token' | 'none';
  username?: string;
  password?: string;
  token?: string;
  /** 1.x needs CREATE DATABASE; 2.x needs an existing bucket (virtual DBRP); 3.x creates on first write. */
  flavour: '1' | '2' | '3';
  timeoutMs?: number;
}

export interface InfluxSeries {
  name: string;
  tags: Record<string, string>;
  columns: string[];
  values: unknown[][];
}

interface RawResult {
  statement_id?: number;
  series?: { name: string; tags?: Record<string, string>; columns: string[]; values?: unknown[][] }[];
  error?: string;
}

export function authHeaders(s: InfluxSettings): Record<string, string> {
  if (s.auth === 'token' && s.token) return { Authorization: `Token ${s.token}` };
  if (s.auth === 'basic' && (s.username || s.password || s.token)) {
    const user = s.username ?? 'bosfleet';
    const pass = s.password ?? s.token ?? '';
    return { Authorization: `Basic ${Buffer.from(`${user}:${pass}`).toString('base64')}` };
  }
  return {};
}

/** Quote an identifier for InfluxQL. */
export function ident(name: string): string {
  return `"${name.replaceAll('\\', '\\\\').replaceAll('"', '\\"')}"`;
}

/** Quote a string literal for InfluxQL. */
export function literal(value: string): string {
  return `'${value.replaceAll('\\', '\\\\').replaceAll("'", "\\'")}'`;
}

/** Escape a value for use inside an InfluxQL regex /.../ (exact match). */
export function regexEscape(value: string): string {
  return value.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}

/**
 * A query InfluxDB did not run, as a typed error: refused credentials or a failing server are
 * `unavailable`; a refused statement (HTTP 4xx, or an error inside a 200 answer such as a
 * point limit) comes from the arguments that built it, so it is `invalid_argument`. The raw
 * store text stays in `cause` (for the log), never in details a client sees.
 */
export function queryRejection(status: number, storeText: string): FleetError {
  const cause = new Error(`InfluxDB (HTTP ${status}): ${storeText.slice(0, 300)}`);
  if (status === 401 || status === 403)
    return new FleetError('unavailable', `InfluxDB refused the API's credentials (HTTP ${status})`, { cause });
  if (status >= 500 || status < 400)
    return new FleetError('unavailable', `InfluxDB failed to answer a query (HTTP ${status})`, { cause });
  return new FleetError(
    'invalid_argument',
    'the time-series store refused the query these arguments produce; narrow the range, use a larger step or fewer filters',
    { cause, details: { store: 'influxdb', store_rejected: true } },
  );
}

export class InfluxClient {
  readonly settings: InfluxSettings;

  constructor(settings: InfluxSettings) {
    this.settings = settings;
  }

  private async request(path: string, init: RequestInit, what: string): Promise<Response> {
    try {
      return await fetch(`${this.settings.url.replace(/\/$/, '')}${path}`, {
        ...init,
        headers: { ...authHeaders(this.settings), ...(init.headers as Record<string, string> | undefined) },
        signal: AbortSignal.timeout(this.settings.timeoutMs ?? 30_000),
      });
    } catch (err) {
      throw new FleetError('unavailable', `InfluxDB is not reachable at ${this.settings.url} (${what})`, { cause: err });
    }
  }

  async ping(): Promise<boolean> {
    try {
      const res = await this.request('/ping', { method: 'GET' }, 'ping');
      return res.status === 204 || res.status === 200;
    } catch {
      return false;
    }
  }

  /** Run one or more `;`-separated InfluxQL statements; returns series per statement. */
  async queryMulti(q: string): Promise<InfluxSeries[][]> {
    const body = new URLSearchParams({ q, db: this.settings.db, epoch: 'ms' });
    const res = await this.request('/query', { method: 'POST', body }, 'query');
    const text = await res.text();
    if (!res.ok) throw queryRejection(res.status, text);
    let parsed: { results?: RawResult[]; error?: string };
    try {
      parsed = JSON.parse(text) as { results?: RawResult[]; error?: string };
    } catch (err) {
      throw new FleetError('unavailable', 'InfluxDB answered a query with something other than JSON', { cause: err });
    }
    if (parsed.error) throw queryRejection(400, parsed.error);
    return (parsed.results ?? []).map(r => {
      if (r.error) {
        // A missing database or measurement is "no data yet", not a failure.
        if (/database not found|measurement not found/i.test(r.error)) return [];
        throw queryRejection(400, r.error);
      }
      return (r.series ?? []).map(s => ({ name: s.name, tags: s.tags ?? {}, columns: s.columns, values: s.values ?? [] }));
    });
  }

  async query(q: string): Promise<InfluxSeries[]> {
    return (await this.queryMulti(q))[0] ?? [];
  }

  /** Create the database where the flavour needs it. */
  async ensureDatabase(): Promise<void> {
    if (this.settings.flavour !== '1') return;
    const body = new URLSearchParams({ q: `CREATE DATABASE ${ident(this.settings.db)}` });
    const res = await this.request('/query', { method: 'POST', body }, 'create database');
    if (!res.ok) {
      throw new FleetError('unavailable', `cannot create InfluxDB database ${this.settings.db} (HTTP ${res.status}); check INFLUX_USERNAME/INFLUX_PASSWORD rights`);
    }
  }
}

/** Rows of a series as objects keyed by column, with the series tags merged in. */
export function rowsOf(series: InfluxSeries[]): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [];
  for (const s of series) {
    for (const v of s.values) {
      const row: Record<string, unknown> = { ...s.tags };
      s.columns.forEach((c, i) => (row[c] = v[i]));
      out.push(row);
    }
  }
  return out;
}
