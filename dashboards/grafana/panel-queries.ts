/**
 * Turns the InfluxQL in Grafana dashboard JSON into runnable queries the way Grafana does
 * (time filter, interval, template variables) and runs them against an InfluxDB. Used by the
 * dashboard tests against fixture data and against data the real collector wrote, so a
 * query that parses in Grafana's editor but fails (or finds nothing) in InfluxDB is caught
 * without running Grafana.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export type VarValue = string | string[];
/**
 * Template variable values. Arrays are regex-escaped and joined as `(a|b)` (Grafana's form
 * for multi-value variables inside `=~ /^$var$/`); strings are inserted verbatim, so `.*` or
 * a measurement name can be passed as is.
 */
export type Vars = Record<string, VarValue>;

export interface ExpandOptions {
  /** replaces $timeFilter; default `time > now() - 1h` */
  timeFilter?: string;
  /** replaces $__interval / $interval; default `1m` */
  interval?: string;
  /** epoch ms for ${__from} / ${__to}; default the last hour up to now */
  fromMs?: number;
  toMs?: number;
}

export interface DatasourceRef {
  type?: string;
  uid?: string;
}
export interface Target {
  refId?: string;
  query?: string;
  rawQuery?: boolean;
  hide?: boolean;
  datasource?: DatasourceRef | null;
}
export interface Panel {
  id?: number;
  type?: string;
  title?: string;
  datasource?: DatasourceRef | null;
  targets?: Target[];
  panels?: Panel[];
}
export interface Variable {
  type: string;
  name: string;
  query?: string | { query?: string };
  datasource?: DatasourceRef | null;
  current?: { value?: string | string[] };
  includeAll?: boolean;
  allValue?: string | null;
}
export interface Annotation {
  name?: string;
  datasource?: DatasourceRef | null;
  query?: string;
  target?: Target;
}
export interface Dashboard {
  uid: string;
  title?: string;
  panels?: Panel[];
  templating?: { list?: Variable[] };
  annotations?: { list?: Annotation[] };
}

export interface PanelQuery {
  dashboard: string;
  kind: 'panel' | 'variable' | 'annotation';
  /** panel title, variable name or annotation name */
  title: string;
  panelId?: number;
  refId?: string;
  query: string;
}

export interface QueryResult extends PanelQuery {
  error?: string;
  series: number;
  /** rows with at least one non-null value besides time */
  rows: number;
  /** first values of the first column after time, for resolving variables */
  values: string[];
}

const isInflux = (ds: DatasourceRef | null | undefined): boolean => ds?.type === 'influxdb';

/** All panels, including those nested in rows. */
export function panelsOf(dashboard: Dashboard): Panel[] {
  return (dashboard.panels ?? []).flatMap(p => [p, ...(p.panels ?? [])]);
}

const escapeRegex = (s: string): string => s.replace(/[\\^$.|?*+()[\]{}/]/g, '\\$&');

function durationMs(d: string): number {
  const m = /^(\d+)(ms|s|m|h|d|w)$/.exec(d);
  if (!m) throw new Error(`cannot read interval ${d}`);
  const unit = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 }[m[2] as 'ms'];
  return Number(m[1]) * unit;
}

/** Grafana's value for a variable nobody chose: the All value, else the saved current value. */
function defaultValue(v: Variable): VarValue | undefined {
  const cur = v.current?.value;
  const isAll = cur === '$__all' || (Array.isArray(cur) && cur.includes('$__all'));
  if (v.includeAll && (isAll || cur === undefined)) return v.allValue ?? '.*';
  if (cur === undefined || (Array.isArray(cur) && cur.length === 0) || cur === '') return undefined;
  return cur;
}

/** Values for every variable of `dashboard`: given ones first, then defaults; undefined = unknown. */
export function variableValues(dashboard: Dashboard, vars: Vars): Record<string, VarValue | undefined> {
  const out: Record<string, VarValue | undefined> = {};
  for (const v of dashboard.templating?.list ?? []) out[v.name] = vars[v.name] ?? defaultValue(v);
  return { ...out, ...vars };
}

/** Substitutes Grafana macros and `$var`, `${var}`, `${var:format}`, `[[var]]` in one query. */
export function interpolate(
  query: string,
  vars: Record<string, VarValue | undefined>,
  opts: ExpandOptions = {},
): string {
  const interval = opts.interval ?? '1m';
  const toMs = opts.toMs ?? Date.now();
  const builtins: Record<string, string> = {
    timeFilter: opts.timeFilter ?? 'time > now() - 1h',
    __interval: interval,
    interval,
    __interval_ms: String(durationMs(interval)),
    __from: String(opts.fromMs ?? toMs - 3_600_000),
    __to: String(toMs),
  };
  return query.replace(
    /\$\{(\w+)(?::[^}]*)?\}|\[\[(\w+)\]\]|\$(\w+)/g,
    (whole, a?: string, b?: string, c?: string) => {
      const name = (a ?? b ?? c) as string;
      if (name in builtins) return builtins[name] as string;
      if (!(name in vars)) throw new Error(`unknown variable $${name} in: ${query}`);
      const value = vars[name];
      if (value === undefined) throw new Error(`no value for $${name} (pass it in vars)`);
      if (!Array.isArray(value)) return value;
      const escaped = value.map(escapeRegex);
      return escaped.length === 1 ? (escaped[0] as string) : `(${escaped.join('|')})`;
    },
  );
}

/** Every InfluxDB panel target of the dashboard, ready to run. */
export function expandPanelQueries(dashboard: Dashboard, vars: Vars, opts: ExpandOptions = {}): PanelQuery[] {
  const values = variableValues(dashboard, vars);
  return panelsOf(dashboard).flatMap(panel =>
    (panel.targets ?? [])
      .filter(t => !t.hide && typeof t.query === 'string' && isInflux(t.datasource ?? panel.datasource))
      .map(t => ({
        dashboard: dashboard.uid,
        kind: 'panel' as const,
        title: panel.title ?? '',
        panelId: panel.id,
        refId: t.refId,
        query: interpolate(t.query as string, values, opts),
      })),
  );
}

const variableQueryText = (v: Variable): string | undefined =>
  typeof v.query === 'string' ? v.query : v.query?.query;

function variableQuery(
  dashboard: Dashboard,
  v: Variable,
  values: Record<string, VarValue | undefined>,
  opts: ExpandOptions,
): PanelQuery[] {
  const text = variableQueryText(v);
  if (v.type !== 'query' || !isInflux(v.datasource) || !text) return [];
  return [
    { dashboard: dashboard.uid, kind: 'variable', title: v.name, query: interpolate(text, values, opts) },
  ];
}

/** The template variable queries (query-type variables on InfluxDB). */
export function expandVariableQueries(
  dashboard: Dashboard,
  vars: Vars,
  opts: ExpandOptions = {},
): PanelQuery[] {
  const values = variableValues(dashboard, vars);
  return (dashboard.templating?.list ?? []).flatMap(v => variableQuery(dashboard, v, values, opts));
}

/** The InfluxQL annotation queries (Grafana's target form or the legacy top-level `query`). */
export function expandAnnotationQueries(
  dashboard: Dashboard,
  vars: Vars,
  opts: ExpandOptions = {},
): PanelQuery[] {
  const values = variableValues(dashboard, vars);
  return (dashboard.annotations?.list ?? [])
    .filter(a => isInflux(a.datasource) && (a.target?.query ?? a.query))
    .map(a => ({
      dashboard: dashboard.uid,
      kind: 'annotation' as const,
      title: a.name ?? '',
      query: interpolate((a.target?.query ?? a.query) as string, values, opts),
    }));
}

export interface RunOptions extends ExpandOptions {
  /** e.g. { authorization: 'Basic …' } */
  headers?: Record<string, string>;
}

interface InfluxResponse {
  error?: string;
  results?: { error?: string; series?: { columns: string[]; values?: unknown[][] }[] }[];
}

async function influxQuery(
  influxUrl: string,
  db: string,
  q: string,
  headers: Record<string, string> = {},
): Promise<Pick<QueryResult, 'error' | 'series' | 'rows' | 'values'>> {
  const url = new URL(`${influxUrl.replace(/\/$/, '')}/query`);
  url.searchParams.set('db', db);
  url.searchParams.set('epoch', 'ms');
  url.searchParams.set('q', q);
  let body: InfluxResponse | null = null;
  let error: string | undefined;
  try {
    const res = await fetch(url, { headers, signal: AbortSignal.timeout(60_000) });
    body = (await res.json().catch(() => null)) as InfluxResponse | null;
    if (!res.ok) error = body?.error ?? `HTTP ${res.status}`;
  } catch (err) {
    error = (err as Error).message;
  }
  const result = (body as InfluxResponse | null)?.results?.[0];
  error ??= result?.error;
  const series = result?.series ?? [];
  let rows = 0;
  const values: string[] = [];
  for (const s of series) {
    const dataCols = s.columns.map((c, i) => (c === 'time' ? -1 : i)).filter(i => i >= 0);
    for (const row of s.values ?? []) {
      if (dataCols.some(i => row[i] !== null && row[i] !== undefined)) rows++;
      // SHOW TAG VALUES answers [key, value]; anything else: first column after time
      const v = row[s.columns[0] === 'key' ? 1 : (dataCols[0] ?? 0)];
      if (v !== null && v !== undefined) values.push(String(v));
    }
  }
  return { error, series: series.length, rows, values };
}

export function readDashboards(dashboardsDir: string): Dashboard[] {
  return readdirSync(dashboardsDir)
    .filter(f => f.endsWith('.json'))
    .sort()
    .map(f => JSON.parse(readFileSync(join(dashboardsDir, f), 'utf8')) as Dashboard);
}

/**
 * Runs every template variable, panel and annotation query of every dashboard in
 * `dashboardsDir` against `db`. Variables without a given or default value take the first
 * value their own query returns, as Grafana does on load. Never throws for a failing query:
 * each result carries its error, so callers report all of them at once.
 */
export async function runPanelQueries(
  influxUrl: string,
  db: string,
  dashboardsDir: string,
  vars: Vars,
  opts: RunOptions = {},
): Promise<QueryResult[]> {
  const results: QueryResult[] = [];
  const run = async (q: PanelQuery): Promise<QueryResult> => {
    const r = { ...q, ...(await influxQuery(influxUrl, db, q.query, opts.headers)) };
    results.push(r);
    return r;
  };
  for (const dashboard of readDashboards(dashboardsDir)) {
    const resolved: Vars = { ...vars };
    // in dashboard order, so a variable's query sees the values of those before it
    for (const v of dashboard.templating?.list ?? []) {
      const values = variableValues(dashboard, resolved);
      for (const q of variableQuery(dashboard, v, values, opts)) {
        const r = await run(q);
        if (values[v.name] === undefined && r.values[0] !== undefined) resolved[v.name] = r.values[0];
      }
    }
    for (const q of [
      ...expandPanelQueries(dashboard, resolved, opts),
      ...expandAnnotationQueries(dashboard, resolved, opts),
    ]) {
      await run(q);
    }
  }
  return results;
}
