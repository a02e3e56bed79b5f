import { FleetError } from './errors.ts';

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
    if (!res.ok) {
      throw new FleetError(res.status === 401 || res.status === 403 ? 'unavailable' : 'internal', `InfluxDB rejected a query (HTTP ${res.status})`, {
        details: { status: res.status, influx_error: text.slice(0, 300) },
      });
    }
    const parsed = JSON.parse(text) as { results?: RawResult[]; error?: string };
    if (parsed.error) throw new FleetError('internal', 'InfluxDB query failed', { details: { influx_error: parsed.error } });
    return (parsed.results ?? []).map(r => {
      if (r.error) {
        // A missing database or measurement is "no data yet", not a failure.
        if (/database not found|measurement not found/i.test(r.error)) return [];
        throw new FleetError('internal', 'InfluxDB query failed', { details: { influx_error: r.error } });
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
