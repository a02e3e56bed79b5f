import { FleetError } from '../../core/errors.ts';
import type { EventsPort } from '../../store/ports/events.ts';
import type { Logger } from '../../runtime/logger.ts';
import type { InventoryPort } from '../../store/ports/inventory.ts';
import {
  HEALTH_STATUSES,
  MEASUREMENTS,
  type EventKind,
  type FleetAggregate,
  type HealthStatus,
  type MinerSample,
  type MinerSnapshot,
} from '../../core/samples.ts';
import type { StatePort } from '../../store/ports/state.ts';
import type { Store } from '../../store/store.ts';
import type { InfluxRedisStore } from '../../store/influx-redis/index.ts';
import { hasRole, type Caller } from '../context.ts';
import type { ApiMetrics } from '../../api/metrics.ts';
import type {
  Availability,
  ComparePeriods,
  EfficiencyRanking,
  HotSpots,
  PeriodStats,
  Underperformers,
} from '../../api/schemas/analytics.ts';
import type { EventList, FleetEventItem } from '../../api/schemas/events.ts';
import {
  FLEET_METRICS,
  type FleetMetric,
  type FleetSeries,
  type FleetSummary,
  type FleetTotals,
  type PoolHealth,
} from '../../api/schemas/fleet.ts';
import {
  BOARD_METRIC_NAMES,
  MINER_SORT_KEYS,
  TELEMETRY_METRICS,
  TELEMETRY_METRIC_NAMES,
  type MinerDetail,
  type MinerList,
  type MinerListItem,
  type MinerSortKey,
  type Telemetry,
  type TelemetryMetric,
} from '../../api/schemas/miners.ts';
import { TtlCache } from './cache.ts';
import {
  currentHashrateGhs,
  expectedBoardHashrateGhs,
  expectedHashrateGhs,
  expectedOverWindowGhs,
} from './miner-figures.ts';
import { findMinerRow, matchModels, suggestMiners, suggestModels, unknownMinerError } from './miner-ref.ts';
import { shareAnswer } from './shared-answer.ts';
import { historyEvents, recentEvents, type EventFilter } from './events.ts';
import { celsius, jth, kw, minutes, nullable, pct, ratioPct, roundForUnit, ths, watts } from './format.ts';
import { MAX_RANGE_MS, defaultStep, num, pickSource, type Source } from './influxql.ts';
import type { SeriesQuery, SeriesReader } from '../../store/ports/series.ts';
import {
  decodeCursor,
  encodeCursor,
  filterAndSort,
  indexAfter,
  queryFingerprint,
  type MinerFilter,
  type MinerOrder,
} from './miner-list.ts';
import { createTableLoader, type MinerTableLoader } from './miner-table-loader.ts';
import { MinerSortOrders } from './miner-sort-orders.ts';
import {
  minerRowAt,
  orNull,
  POOL_ACTIVE,
  POOL_ALIVE,
  POOL_ENABLED,
  type MinerRow,
  type MinerTable,
} from './miner-table.ts';
import { fleetRollupSeriesQuery, minerRollupSeriesQuery, pickFleetSource, type FleetSeriesQuery } from './fleet-series.ts';
import { groupedStats, type GroupStats } from './stats.ts';
import { WindowBuckets } from './window-buckets.ts';
import { mergeWindowRows, rawWindowRows } from './window-edges.ts';
import { finestResolutionAt, planExactWindow, preloadUnits, readWindowStats, type WindowStatKey } from './window-stats.ts';
import {
  DAY_MS,
  HOUR_MS,
  formatDuration,
  iso,
  parseDuration,
  parseTime,
  resolveRange,
  resolveWindow,
  type TimeRange,
} from './time.ts';

/**
 * The fleet query service: every fleet question the REST API and the MCP server answer, from
 * stored data only (Redis snapshots, indexes and aggregates written by the collector; InfluxDB
 * series). It never calls a miner. Every method takes the Caller first and sees only the
 * caller's tenant: another tenant's miner "does not exist" (FleetError not_found).
 *
 * Cost model at 10,000 miners: the summary reads the collector's aggregates plus index set
 * sizes (no snapshot is read); listing and pool health read a compact in-process table of the
 * tenant's miners that is refreshed at most every 2 s (served up to 15 s stale while one
 * background load refreshes it). Fleet-wide analytics never read one InfluxDB series per
 * miner when the collector's summaries exist, because InfluxDB 1.x pays per series (about a
 * second per 10,000 even over hourly points):
 *  - fleetSeries reads the fleet rollups `fleet_1m` / `fleet_1h` (a few dozen series per
 *    tenant; fleet-series.ts), falling back to the per-miner rollups only for history written
 *    before them;
 *  - underperformers / hotSpots (level=miner), efficiencyRanking, comparePeriods and
 *    availability read the per-miner window statistics the collector keeps in Redis (one
 *    HGETALL of ~10,000 fields per day, hour or 5-minute bucket of the window;
 *    window-stats.ts; `source: window_stats`, and `window` says what the buckets covered),
 *    falling back to InfluxDB (groupedStats over pickSource's measurement) when Redis holds no
 *    statistics for the window. Board-level analytics always read raw hashboard points.
 * InfluxDB queries always filter on the tenant tag and time. Answers are bounded: top-k with
 * totals and a `truncated` flag.
 */

export type TimeInput = string | number;

export interface FleetQueryDeps {
  /** the storage ports every answer is read from */
  store: Store;
  log?: Logger | undefined;
  metrics?: ApiMetrics | undefined;
  /**
   * the Redis URL of an influx-redis store: miner tables are then read and parsed in a worker
   * thread with its own connection (miner-table-loader.ts); without it, in this thread
   */
  redisUrl?: string | undefined;
}

export interface FleetQueryOptions {
  /** collector poll interval: staleness (3x) and the raw series resolution. @defaultValue 10000 */
  pollIntervalMs?: number;
  /** clock for "now", from/to defaults and staleness. @defaultValue Date.now */
  now?: () => number;
  /** how long summaries and sorted, filtered lists are served without recomputing. @defaultValue 2000 */
  cacheFreshMs?: number;
  /**
   * how long the in-process miner table is served before a reload (snapshots change once per
   * poll, so half the poll interval, at most 5 s, loses nothing). @defaultValue min(5000, pollIntervalMs / 2)
   */
  tableFreshMs?: number;
  /** the miner table is served up to this age while a background load refreshes it. @defaultValue 15000 */
  tableStaleMs?: number;
  /** refuse raw hashboard scans estimated above this many points. @defaultValue 20000000 */
  maxRawPoints?: number;
  /** the Redis event stream cap (COLLECTOR_EVENTS_MAXLEN). @defaultValue 10000 */
  eventsMaxLen?: number;
  /** decoded window-statistics buckets kept in memory (API_WINDOW_CACHE_MB). @defaultValue 256 MiB */
  windowCacheBytes?: number;
}

export interface ListMinersOptions {
  status?: HealthStatus | undefined;
  site?: string | undefined;
  model?: string | undefined;
  /** `key=value`, or several (all must match) */
  label?: string | string[] | undefined;
  firmware?: string | undefined;
  /** free text on id, hostname and IP */
  q?: string | undefined;
  sort?: MinerSortKey | undefined;
  order?: 'asc' | 'desc' | undefined;
  /** default 50, max 500 */
  limit?: number | undefined;
  cursor?: string | undefined;
}

export type TelemetryAggregate = 'mean' | 'max' | 'min' | 'last';

export interface TelemetryOptions {
  /** default hashrate_ths, power_w, temp_chip_max_c */
  metrics?: readonly TelemetryMetric[] | string | undefined;
  /** default to - 1h */
  from?: TimeInput | undefined;
  /** default now */
  to?: TimeInput | undefined;
  /** bucket, e.g. `5m`; default keeps the answer at ≤ ~500 points */
  step?: string | undefined;
  aggregate?: TelemetryAggregate | undefined;
  /** per-hashboard series too (raw hashboard points, ranges ≤ 7 d) */
  boards?: boolean | undefined;
}

export interface FleetSeriesOptions {
  metric: FleetMetric;
  /** default to - 24h */
  from?: TimeInput | undefined;
  to?: TimeInput | undefined;
  step?: string | undefined;
  groupBy?: 'site' | 'model' | undefined;
  site?: string | undefined;
  model?: string | undefined;
}

interface WindowOptions {
  /** e.g. `1h`, `24h`, `7d`; default 1h */
  window?: string | undefined;
  /** end of the window; default now */
  to?: TimeInput | undefined;
  site?: string | undefined;
  /** default 20, max 500 */
  limit?: number | undefined;
}

export interface UnderperformersOptions extends WindowOptions {
  /** default 90 */
  thresholdPct?: number | undefined;
  level?: 'miner' | 'board' | undefined;
}

export interface HotSpotsOptions extends WindowOptions {
  level?: 'miner' | 'board' | undefined;
}

export interface EfficiencyOptions extends WindowOptions {
  /** worst = highest J/TH first (default) */
  order?: 'worst' | 'best' | undefined;
}

export interface CompareOptions {
  a: { from: TimeInput; to: TimeInput };
  b: { from: TimeInput; to: TimeInput };
  groupBy?: 'site' | 'model' | undefined;
}

export interface AvailabilityOptions {
  /** default to - 24h */
  from?: TimeInput | undefined;
  to?: TimeInput | undefined;
  level?: 'miner' | 'site' | undefined;
  site?: string | undefined;
  limit?: number | undefined;
}

export interface MinerMeansOptions {
  from?: TimeInput | undefined;
  to?: TimeInput | undefined;
  site?: string | undefined;
  /** from's default distance before to (default 24 h) */
  defaultRangeMs?: number | undefined;
}

export interface MinerMeans {
  /** what the statistics cover (may be narrower than asked: see windowRows) */
  window: TimeRange;
  source: string;
  /** one row per miner with data; means over the polls that reached it, `up` the share that did */
  rows: { miner: string; site: string; model: string | null; hashrate_ghs: number | null; power_w: number | null; up: number | null }[];
  gap?: string;
}

export interface EventsOptions {
  from?: TimeInput | undefined;
  to?: TimeInput | undefined;
  miner?: string | undefined;
  kind?: EventKind | undefined;
  severity?: 'info' | 'warning' | 'critical' | undefined;
  /** default 100, max 1000 */
  limit?: number | undefined;
}

export interface PoolHealthOptions {
  site?: string | undefined;
  /** default 50, max 500 */
  limit?: number | undefined;
}

/** Explicit steps that would produce more buckets than this are refused (with the smallest step that fits). */
export const MAX_SERIES_POINTS = 5_000;

/** Points a series answers without a step: enough for a chart, few nulls, cheap to read. */
export const DEFAULT_SERIES_POINTS = 120;
/** Per-board telemetry reads raw hashboard points; longer ranges are refused. */
export const MAX_BOARD_RANGE_MS = 7 * DAY_MS;

const zeroStatus = (): Record<HealthStatus, number> =>
  Object.fromEntries(HEALTH_STATUSES.map(s => [s, 0])) as Record<HealthStatus, number>;

/** Miners paused or stopped at their last poll, with that status: they hash nothing by intent. */
function idleNow(table: MinerTable): Map<string, HealthStatus> {
  const out = new Map<string, HealthStatus>();
  for (let i = 0; i < table.size; i++) {
    const status = table.status[i]!;
    if (status === 'paused' || status === 'stopped') out.set(table.id[i]!, status);
  }
  return out;
}

function idleNote(ids: readonly string[], idle: ReadonlyMap<string, HealthStatus>): string {
  const shown = [...ids].sort().slice(0, 5).map(id => `${id} ${idle.get(id)}`);
  const more = ids.length > shown.length ? ` and ${ids.length - shown.length} more` : '';
  return `${ids.length} miner(s) not hashing now are left out: ${shown.join(', ')}${more}`;
}

function checkLimit(field: string, v: number | undefined, def: number, max: number): number {
  if (v === undefined) return def;
  if (!Number.isInteger(v) || v < 1 || v > max) {
    throw new FleetError('invalid_argument', `${field}: expected an integer between 1 and ${max}`, {
      details: { field, value: v },
    });
  }
  return v;
}

async function redisRead<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof FleetError) throw err;
    throw new FleetError('unavailable', 'Redis is not available', { cause: err });
  }
}

/** Escape glob characters for SCAN MATCH. */
interface SummaryCore {
  body: Omit<FleetSummary, 'stale'>;
  updatedMs: number | null;
}

/** Window statistics from Redis: rows, the range they cover, and why it is narrower than asked. */
interface WindowRows {
  rows: GroupStats<WindowStatKey>[];
  window: TimeRange;
  gap?: string;
}

/**
 * Window-statistics fields (about miners) above which a window's edges between two 5-minute
 * boundaries are rounded (and the answer's window says so) instead of read from raw points.
 */
const RAW_EDGE_MAX_FIELDS = 250;
/** how long before the query's clock a window's end still counts as "now" (resolved by its caller) */
const NOW_SKEW_MS = 2_000;

const windowOf = (r: TimeRange): { from: string; to: string } => ({ from: iso(r.fromMs), to: iso(r.toMs) });

export class FleetQuery {
  private readonly inventory: InventoryPort;
  private readonly series: SeriesReader;
  private readonly log: Logger | undefined;
  private readonly metrics: ApiMetrics | undefined;
  private readonly state: StatePort;
  private readonly eventLog: EventsPort;
  private readonly pollMs: number;
  private readonly now: () => number;
  private readonly maxRawPoints: number;
  private readonly tables: TtlCache<MinerTable>;
  /** rows of a table version that match a query, sorted */
  private readonly lists: TtlCache<Int32Array>;
  private readonly summaries: TtlCache<SummaryCore>;
  private readonly pools: TtlCache<PoolHealth>;
  private readonly windows: TtlCache<WindowRows | null>;
  private readonly buckets: WindowBuckets;
  /** list pages built once per table version, filters, position and stale flags (see listMiners) */
  private readonly pages: TtlCache<MinerList>;
  /** the summary answer last built from each summary core, by its stale state */
  private readonly summaryAnswers = new WeakMap<SummaryCore, { key: string; answer: FleetSummary }>();
  private readonly tableLoader: MinerTableLoader;
  /** each table's rows in every order asked for, carried over from one reload to the next */
  private readonly sortOrders = new MinerSortOrders();
  private tableVersion = 0;

  constructor(deps: FleetQueryDeps, opts: FleetQueryOptions = {}) {
    const { store } = deps;
    this.inventory = store.inventory;
    this.series = store.series.reader;
    this.log = deps.log;
    this.metrics = deps.metrics;
    this.state = store.state;
    this.tableLoader = createTableLoader({
      state: this.state,
      redis: store.backend === 'influx-redis' && deps.redisUrl ? { url: deps.redisUrl, prefix: (store as InfluxRedisStore).keys.prefix } : undefined,
      log: deps.log,
    });
    this.eventLog = store.events;
    this.pollMs = opts.pollIntervalMs ?? 10_000;
    this.now = opts.now ?? Date.now;
    this.maxRawPoints = opts.maxRawPoints ?? 20_000_000;
    const fresh = opts.cacheFreshMs ?? 2_000;
    const counter = deps.metrics?.cacheRequests;
    const onBackgroundError = (err: unknown): void =>
      this.log?.warn({ err: (err as Error).message }, 'background refresh of the miner table failed');
    const tableFresh = opts.tableFreshMs ?? Math.min(5_000, Math.max(fresh, this.pollMs / 2));
    this.tables = new TtlCache({
      name: 'miner_table',
      freshMs: tableFresh,
      staleMs: Math.max(tableFresh, opts.tableStaleMs ?? 15_000),
      maxEntries: 64,
      counter,
      onBackgroundError,
    });
    this.lists = new TtlCache({ name: 'miner_list', freshMs: fresh, maxEntries: 256, counter });
    this.summaries = new TtlCache({ name: 'summary', freshMs: fresh, maxEntries: 256, counter });
    this.pools = new TtlCache({ name: 'pool_health', freshMs: tableFresh, maxEntries: 256, counter });
    // Window statistics change when a 5-minute bucket closes; several analytics over the same
    // window (a dashboard, an MCP conversation) share one read. ~4 MB an entry at 10,000 miners.
    this.windows = new TtlCache({ name: 'window_stats', freshMs: 15_000, maxEntries: 16, counter });
    // A bucket is final once its window closed and the collector flushed it: a poll or two later
    // (a late flush, after a Redis outage, still shows in the field count the cache checks).
    this.buckets = new WindowBuckets(this.state, {
      settleMs: Math.max(180_000, 3 * this.pollMs),
      now: this.now,
      counter,
      bytesGauge: deps.metrics?.windowCacheBytes,
      ...(opts.windowCacheBytes !== undefined ? { maxBytes: opts.windowCacheBytes } : {}),
    });
    this.pages = new TtlCache({ name: 'miner_page', freshMs: fresh, maxEntries: 256, counter });
  }

  /** Stop the miner table loader thread (if any). */
  async close(): Promise<void> {
    await this.tableLoader.close();
  }

  /** Drop every in-process cache (tests, or after a bulk inventory change). */
  clearCaches(): void {
    for (const c of [this.tables, this.lists, this.summaries, this.pools, this.windows, this.pages] as TtlCache<unknown>[])
      c.invalidate();
  }

  /**
   * Read every tenant's window-statistics buckets of the last `hours` into memory, so that the
   * first analytical question of the day does not pay for reading them (~1 s for 24 h at 10,000
   * miners); the API runs this at start and then every few minutes, when new buckets settle.
   */
  async preloadWindows(hours: number): Promise<{ tenants: number; buckets: number; bytes: number }> {
    const units = preloadUnits(hours, this.now());
    const tenants = await this.state.tenants();
    let buckets = 0;
    for (const tenant of tenants) buckets += (await this.buckets.read(tenant, units, 2)).filter(b => b.rows > 0).length;
    return { tenants: tenants.length, buckets, bytes: this.buckets.bytes };
  }

  // ---- fleet state (Redis) -------------------------------------------------------------------

  async summary(caller: Caller): Promise<FleetSummary> {
    const tenant = this.tenantOf(caller);
    // The summary is computed from the very table the miner list pages through, so the two
    // agree after every reload (the collector's own aggregate is only read for its time).
    const table = await this.table(tenant);
    const core = await this.summaries.get(`${tenant}\u0000${table.version}`, () => this.loadSummary(tenant, table));
    const stale = this.isStale(core.updatedMs);
    const age =
      stale && core.updatedMs !== null && core.body.hint === undefined
        ? Math.round((this.now() - core.updatedMs) / 1_000)
        : null;
    // Every request between two loads of the core gets the same answer (serialized once).
    const key = `${stale}\u0000${age}`;
    const known = this.summaryAnswers.get(core);
    if (known?.key === key) return known.answer;
    const answer = shareAnswer<FleetSummary>(
      age === null
        ? { ...core.body, stale }
        : {
            ...core.body,
            stale,
            hint: `the collector last updated these figures ${age} s ago; check that it is running (GET /health/ready shows its heartbeat)`,
          },
    );
    this.summaryAnswers.set(core, { key, answer });
    return answer;
  }

  async listMiners(caller: Caller, o: ListMinersOptions = {}): Promise<MinerList> {
    const tenant = this.tenantOf(caller);
    const limit = checkLimit('limit', o.limit, 50, 500);
    const sort = o.sort ?? 'id';
    if (!MINER_SORT_KEYS.includes(sort))
      throw new FleetError('invalid_argument', `sort: expected one of ${MINER_SORT_KEYS.join(', ')}`, {
        details: { field: 'sort' },
      });
    const order: MinerOrder = { sort, order: o.order ?? (sort === 'id' ? 'asc' : 'desc') };
    const filter: MinerFilter = {
      status: o.status,
      site: o.site,
      model: o.model,
      labels: parseLabels(o.label),
      firmware: o.firmware,
      q: o.q,
    };
    const table = await this.table(tenant);
    // `model` is what the user typed: the full name or its key (s21), any case
    if (o.model !== undefined) filter.models = matchModels(table, o.model);
    const fp = queryFingerprint(filter, order);
    const sorted = await this.lists.get(`${tenant}\u0000${table.version}\u0000${fp}`, async () =>
      filterAndSort(table, filter, order, this.sortOrders.order(table, order)),
    );
    const start = o.cursor ? indexAfter(table, sorted, decodeCursor(o.cursor, fp), order) : 0;
    const page = sorted.subarray(start, start + limit);
    // A row is stale when the collector had not refreshed it by the time the table was read: a
    // table served from cache (up to 15 s) must not make fresh miners look stale at short polls.
    const now = Math.min(this.now(), table.loadedMs);
    // A page depends on the table version, the query, its position and, through `now`, only on
    // which of its miners are stale: those make the key, so a cached page is exactly the page
    // this request would build, and identical requests share one (serialized once).
    let staleFlags = '';
    for (const i of page) staleFlags += this.isStale(orNull(table.last_seen_ms[i]!), now) ? '1' : '0';
    const key = `${tenant}\u0000${table.version}\u0000${fp}\u0000${start}\u0000${limit}\u0000${staleFlags}`;
    return await this.pages.get(key, async () => {
      const list = this.listPage(tenant, table, sorted, page, start, limit, fp, sort, now);
      if (list.total === 0 && o.model !== undefined && filter.models?.length === 0) {
        const close = suggestModels(table, o.model);
        list.hint = `model '${o.model}' matches no model of this fleet; ${
          close.length ? `did you mean ${close.map(c => `'${c}'`).join(', ')}?` : `its models: ${[...new Set(table.model.filter(m => m !== null))].sort().join(', ') || 'none yet'}`
        } (give the full name or its key, e.g. s21)`;
      }
      return shareAnswer(list);
    });
  }

  /**
   * The id of the miner `ref` names: an id, hostname or address in any case (miner-ref.ts). An
   * unknown ref comes back as is, for the caller's own not-found check; an ambiguous one is refused.
   */
  /** Miners close to `ref` by id or hostname (miner-ref.ts), for "did you mean". */
  async suggestMiners(caller: Caller, ref: string, k = 3): Promise<{ id: string; hostname: string | null }[]> {
    return suggestMiners(await this.table(this.tenantOf(caller)), ref, k);
  }

  async resolveMinerId(caller: Caller, ref: string, field = 'miner'): Promise<string> {
    const table = await this.table(this.tenantOf(caller));
    const row = findMinerRow(table, field, ref);
    return row >= 0 ? table.id[row]! : ref;
  }

  private listPage(
    tenant: string,
    table: MinerTable,
    sorted: Int32Array,
    page: Int32Array,
    start: number,
    limit: number,
    fp: string,
    sort: MinerSortKey,
    now: number,
  ): MinerList {
    const more = start + page.length < sorted.length;
    const out: MinerList = {
      items: Array.from(page, i => this.listItem(minerRowAt(table, i), now)),
      total: sorted.length,
      limit,
      truncated: more,
      next_cursor: more && page.length > 0 ? encodeCursor(fp, table, page[page.length - 1]!, sort) : null,
    };
    if (sorted.length === 0) {
      out.hint =
        table.size === 0
          ? `tenant '${tenant}' has no miners yet; add miners to the inventory`
          : 'no miner matches these filters; drop some of status, site, model, label, firmware or q';
    } else if (more) {
      out.hint =
        'more miners match: pass next_cursor for the next page, or narrow with status, site, model or label';
    }
    return out;
  }

  async getMiner(caller: Caller, ref: string): Promise<MinerDetail> {
    const tenant = this.tenantOf(caller);
    const id = await this.resolveMinerId(caller, ref);
    const snap = await this.state.snapshot(id);
    if (!snap || snap.ref.tenant !== tenant) throw this.unknownMiner(tenant, id);
    return this.detail(snap);
  }

  async poolHealth(caller: Caller, o: PoolHealthOptions = {}): Promise<PoolHealth> {
    const tenant = this.tenantOf(caller);
    const limit = checkLimit('limit', o.limit, 50, 500);
    const table = await this.table(tenant);
    const key = `${tenant}\u0000${table.version}\u0000${o.site ?? ''}\u0000${limit}`;
    return await this.pools.get(key, async () => poolHealthOf(table, o.site, limit));
  }

  // ---- one miner's series (InfluxDB) ---------------------------------------------------------

  async telemetry(caller: Caller, ref: string, o: TelemetryOptions = {}): Promise<Telemetry> {
    const tenant = this.tenantOf(caller);
    const id = await this.resolveMinerId(caller, ref);
    await this.assertMiner(tenant, id);
    const metrics = parseMetrics(o.metrics);
    const aggregate = o.aggregate ?? 'mean';
    if (!['mean', 'max', 'min', 'last'].includes(aggregate))
      throw new FleetError('invalid_argument', 'aggregate: expected mean, max, min or last', {
        details: { field: 'aggregate' },
      });
    const range = resolveRange(o, this.now(), HOUR_MS, MAX_RANGE_MS);
    const source = pickSource(range.toMs - range.fromMs, 'miner', this.pollMs);
    const step = this.stepFor(range, source, o.step);
    const fromMs = Math.floor(range.fromMs / step) * step;
    const fields = [...new Set(metrics.map(m => TELEMETRY_METRICS[m].field))];
    const q: SeriesQuery = {
      measurement: source.measurement,
      tenant,
      tags: [{ tag: 'miner', in: [id] }],
      fromMs,
      toMs: range.toMs,
      fields: fields.map(f => ({ fn: aggregate, field: f })),
      stepMs: step,
      fill: 'null',
    };
    const statements = [q];
    let boardMetrics: TelemetryMetric[] = [];
    if (o.boards) {
      if (range.toMs - range.fromMs > MAX_BOARD_RANGE_MS) {
        throw new FleetError(
          'invalid_argument',
          `boards: per-board series are kept at raw resolution only; ask for a range of at most ${formatDuration(MAX_BOARD_RANGE_MS)}`,
          {
            details: { field: 'boards' },
          },
        );
      }
      boardMetrics = metrics.filter(m => TELEMETRY_METRICS[m].board !== null);
      if (boardMetrics.length === 0) boardMetrics = ['hashrate_ths', 'temp_chip_max_c'];
      const boardFields = [...new Set(boardMetrics.map(m => TELEMETRY_METRICS[m].board!))];
      statements.push({
        measurement: MEASUREMENTS.hashboard,
        tenant,
        tags: [{ tag: 'miner', in: [id] }],
        fromMs,
        toMs: range.toMs,
        fields: boardFields.map(f => ({ fn: aggregate, field: f })),
        stepMs: step,
        groupBy: ['board'],
        fill: 'null',
      });
    }
    const [minerSeries = [], boardSeries = []] = await this.series.queryMany(statements);
    const toPoint = (
      row: Record<string, unknown>,
      ms: readonly TelemetryMetric[],
      name: (m: TelemetryMetric) => string,
      field: (m: TelemetryMetric) => string,
    ) => {
      const p: Record<string, string | number | null> = { time: iso(Number(row.time)) };
      for (const m of ms) {
        const spec = TELEMETRY_METRICS[m];
        const v = num(row[field(m)]);
        p[name(m)] = v === null ? null : roundForUnit(spec.unit)(v * spec.scale);
      }
      return p as { time: string } & Record<string, number | null>;
    };
    const points = minerSeries.flatMap(s =>
      s.rows.map(r =>
        toPoint(
          r,
          metrics,
          m => m,
          m => TELEMETRY_METRICS[m].field,
        ),
      ),
    );
    const units = Object.fromEntries(metrics.map(m => [m, TELEMETRY_METRICS[m].unit]));
    const out: Telemetry = {
      miner: id,
      from: iso(fromMs),
      to: iso(range.toMs),
      step_s: step / 1_000,
      source: source.name,
      aggregate,
      metrics,
      units,
      points,
    };
    if (o.boards) {
      const name = (m: TelemetryMetric): string => BOARD_METRIC_NAMES[m as keyof typeof BOARD_METRIC_NAMES];
      for (const m of boardMetrics) units[name(m)] = TELEMETRY_METRICS[m].unit;
      out.boards = boardSeries
        .map(s => ({
          board: s.tags.board ?? '',
          points: s.rows.map(r => toPoint(r, boardMetrics, name, m => TELEMETRY_METRICS[m].board!)),
        }))
        .sort((a, b) => a.board.localeCompare(b.board, 'en', { numeric: true }));
    }
    if (points.length === 0) {
      out.hint = `no ${source.name} data for miner '${id}' from ${out.from} to ${out.to}: the miner may have been unreachable, or collection started later (GET /api/v1/miners/${id} shows last_seen)`;
    }
    return out;
  }

  // ---- fleet analytics (InfluxDB) ------------------------------------------------------------

  async fleetSeries(caller: Caller, o: FleetSeriesOptions): Promise<FleetSeries> {
    const tenant = this.tenantOf(caller);
    const metric = o.metric;
    const spec = FLEET_METRICS[metric];
    if (!spec)
      throw new FleetError(
        'invalid_argument',
        `metric: expected one of ${Object.keys(FLEET_METRICS).join(', ')}`,
        { details: { field: 'metric' } },
      );
    const range = resolveRange(o, this.now(), DAY_MS, MAX_RANGE_MS);
    const rangeMs = range.toMs - range.fromMs;
    let source = pickFleetSource(rangeMs);
    const step = this.stepFor(range, source, o.step);
    const fromMs = Math.floor(range.fromMs / step) * step;
    // the series are tagged with the full model name; accept its key (s21) or another case too
    const models = o.model === undefined ? [] : matchModels(await this.table(tenant), o.model);
    const model = models.length === 1 ? models[0]! : o.model;
    const scope = { tenant, site: o.site, model, fromMs, toMs: range.toMs, stepMs: step, groupBy: o.groupBy };
    const run = async (sq: FleetSeriesQuery): Promise<FleetSeries['series']> =>
      (await this.series.query(sq.query))
        .map(s => ({
          group: o.groupBy ? (s.tags[o.groupBy] ?? '') : null,
          points: s.rows.map(r => ({ time: iso(Number(r.time)), value: sq.value(r) })),
        }))
        .sort((a, b) => (a.group ?? '').localeCompare(b.group ?? ''));
    let series = await run(fleetRollupSeriesQuery(metric, source, scope));
    if (series.length === 0) {
      // History from before the collector wrote fleet rollups: the per-miner series (slow at 10,000 miners).
      const minerSource = pickSource(rangeMs, 'fleet', this.pollMs);
      if (step >= minerSource.resolutionMs) {
        series = await run(minerRollupSeriesQuery(metric, minerSource, scope));
        if (series.length > 0) source = minerSource;
      }
    }
    const out: FleetSeries = {
      metric,
      unit: spec.unit,
      combine: spec.combine,
      from: iso(fromMs),
      to: iso(range.toMs),
      step_s: step / 1_000,
      source: source.name,
      group_by: o.groupBy ?? null,
      series,
    };
    if (series.length === 0)
      out.hint = `no ${source.name} data between ${out.from} and ${out.to}${o.site ? ` for site '${o.site}'` : ''}${o.model ? ` for model '${o.model}'` : ''}`;
    else if (source.name === '1h')
      out.hint = 'hourly rollups: the current, unfinished hour is not included yet';
    return out;
  }

  async underperformers(caller: Caller, o: UnderperformersOptions = {}): Promise<Underperformers> {
    const tenant = this.tenantOf(caller);
    const limit = checkLimit('limit', o.limit, 20, 500);
    const threshold = o.thresholdPct ?? 90;
    if (!(threshold >= 1 && threshold <= 100))
      throw new FleetError('invalid_argument', 'threshold_pct: expected a percentage between 1 and 100', {
        details: { field: 'threshold_pct' },
      });
    const range = resolveWindow(o.window ?? '1h', o.to, this.now(), MAX_RANGE_MS);
    const level = o.level ?? 'miner';
    const site = o.site !== undefined ? [{ tag: 'site', in: [o.site] }] : [];
    let stats: GroupStats<'h' | 'n' | 'up'>[];
    let sourceName: Underperformers['source'];
    let window: TimeRange = range;
    let gap: string | undefined;
    const ws = level === 'miner' ? await this.windowRows(tenant, range, o.site) : null;
    if (ws) {
      ({ rows: stats, window, gap } = ws);
      sourceName = 'window_stats';
    } else if (level === 'board') {
      await this.checkBoardScan(tenant, o.site, range);
      sourceName = 'hashboard';
      stats = (
        await groupedStats(this.series, {
          tenant,
          measurement: MEASUREMENTS.hashboard,
          ...range,
          specs: {
            h: { fn: 'mean', field: 'hashrate_ghs' },
            n: { fn: 'mean', field: 'hashrate_nominal_ghs' },
          },
          groupBy: ['miner', 'site', 'board'],
          key: t => `${t.miner}\u0000${t.board}`,
          tags: site,
        })
      ).map(s => ({ ...s, v: { ...s.v, up: null }, n: { ...s.n, up: 0 } }));
    } else {
      const source = pickSource(range.toMs - range.fromMs, 'fleet', this.pollMs);
      sourceName = source.name;
      stats = await groupedStats(this.series, {
        tenant,
        measurement: source.measurement,
        ...range,
        specs: {
          h: { fn: 'mean', field: 'hashrate_ghs' },
          n: { fn: 'mean', field: 'hashrate_nominal_ghs' },
          up: { fn: 'mean', field: 'up' },
        },
        groupBy: ['miner', 'site', 'model'],
        tags: site,
      });
    }
    // Expected hashrate counts every board the miner has (miner-figures.ts): a dead board is a
    // shortfall at miner level and a 0 % board at board level, not a lower nominal or no data.
    const table = await this.table(tenant);
    const expectedNow = new Map<string, { miner: number; board: number; ratio: number }>();
    for (let i = 0; i < table.size; i++) {
      const miner = table.nominal_ghs[i]!;
      const boards = table.boards_total[i]!;
      if (miner > 0)
        expectedNow.set(table.id[i]!, { miner, board: boards > 0 ? miner / boards : NaN, ratio: table.expected_ratio[i]! });
    }
    stats = stats.map(s => {
      const now = expectedNow.get(s.tags.miner ?? '');
      const n =
        level === 'board'
          ? expectedOverWindowGhs(s.v.n, now?.board ?? null, 1)
          : expectedOverWindowGhs(s.v.n, now?.miner ?? null, now?.ratio ?? null);
      return n === s.v.n ? s : { ...s, v: { ...s.v, n, h: s.v.h ?? (level === 'board' ? 0 : null) } };
    });
    // A miner paused or stopped now hashes nothing by intent: not an underperformer (its
    // window mean would rank it at 0 %); the hint names it instead.
    const idle = idleNow(table);
    const idleHere = [...new Set(stats.map(s => s.tags.miner ?? '').filter(m => idle.has(m)))];
    const evaluated = stats.filter(s => s.v.n !== null && s.v.n > 0 && !idle.has(s.tags.miner ?? ''));
    const below = evaluated
      .map(s => ({ s, pctNominal: ((s.v.h ?? 0) / s.v.n!) * 100 }))
      .filter(x => x.pctNominal < threshold)
      .sort((a, b) => a.pctNominal - b.pctNominal || (a.s.key < b.s.key ? -1 : 1));
    const items = below.slice(0, limit).map(({ s, pctNominal }) => ({
      miner: s.tags.miner ?? '',
      site: s.tags.site ?? '',
      model: level === 'board' ? null : (s.tags.model ?? null),
      board: level === 'board' ? (s.tags.board ?? null) : null,
      hashrate_ths: ths(s.v.h ?? 0),
      hashrate_nominal_ths: ths(s.v.n!),
      pct_nominal: pct(pctNominal),
      up_pct: nullable(v => pct(v * 100))(s.v.up),
    }));
    const out: Underperformers = {
      window: windowOf(window),
      source: sourceName,
      level,
      threshold_pct: threshold,
      evaluated: evaluated.length,
      items,
      total: below.length,
      limit,
      truncated: below.length > limit,
    };
    const noData = stats.filter(s => !(s.v.n !== null && s.v.n > 0) && !idle.has(s.tags.miner ?? '')).length;
    const hints: string[] = [];
    if (evaluated.length === 0 && idleHere.length === 0)
      hints.push(`no ${level} had hashrate data in the window; widen window or check that the collector is running`);
    else if (below.length > limit)
      hints.push(`${below.length} ${level}s are below ${threshold}% of nominal; raise limit or narrow with site`);
    else if (noData > 0)
      hints.push(`${noData} ${level}s had no hashrate data in the window (unreachable the whole time?); see analytics/availability`);
    else if (gap) hints.push(gap);
    if (idleHere.length > 0) hints.push(idleNote(idleHere, idle));
    if (hints.length > 0) out.hint = hints.join('; ');
    return out;
  }

  async hotSpots(caller: Caller, o: HotSpotsOptions = {}): Promise<HotSpots> {
    const tenant = this.tenantOf(caller);
    const limit = checkLimit('limit', o.limit, 20, 500);
    const range = resolveWindow(o.window ?? '1h', o.to, this.now(), MAX_RANGE_MS);
    const level = o.level ?? 'miner';
    const site = o.site !== undefined ? [{ tag: 'site', in: [o.site] }] : [];
    let stats: GroupStats<'max' | 'mean' | 'board'>[];
    let sourceName: HotSpots['source'];
    let window: TimeRange = range;
    let gap: string | undefined;
    const ws = level === 'miner' ? await this.windowRows(tenant, range, o.site) : null;
    if (ws) {
      stats = ws.rows.map(r => ({
        ...r,
        v: { max: r.v.tmax, mean: r.v.tmean, board: r.v.tboard },
        n: { max: r.n.tmax, mean: r.n.tmean, board: r.n.tboard },
      }));
      ({ window, gap } = ws);
      sourceName = 'window_stats';
    } else if (level === 'board') {
      await this.checkBoardScan(tenant, o.site, range);
      sourceName = 'hashboard';
      stats = await groupedStats(this.series, {
        tenant,
        measurement: MEASUREMENTS.hashboard,
        ...range,
        specs: {
          max: { fn: 'max', field: 'temp_chip_c' },
          mean: { fn: 'mean', field: 'temp_chip_c' },
          board: { fn: 'max', field: 'temp_board_c' },
        },
        groupBy: ['miner', 'site', 'board'],
        key: t => `${t.miner}\u0000${t.board}`,
        tags: site,
      });
    } else {
      const source = pickSource(range.toMs - range.fromMs, 'fleet', this.pollMs);
      sourceName = source.name;
      stats = await groupedStats(this.series, {
        tenant,
        measurement: source.measurement,
        ...range,
        specs: {
          max: { fn: 'max', field: 'temp_chip_max_c' },
          mean: { fn: 'mean', field: 'temp_chip_max_c' },
          board: { fn: 'max', field: 'temp_board_max_c' },
        },
        groupBy: ['miner', 'site', 'model'],
        tags: site,
      });
    }
    const ranked = stats
      .filter(s => s.v.max !== null)
      .sort((a, b) => b.v.max! - a.v.max! || (a.key < b.key ? -1 : 1));
    const out: HotSpots = {
      window: windowOf(window),
      source: sourceName,
      level,
      items: ranked.slice(0, limit).map(s => ({
        miner: s.tags.miner ?? '',
        site: s.tags.site ?? '',
        model: level === 'board' ? null : (s.tags.model ?? null),
        board: level === 'board' ? (s.tags.board ?? null) : null,
        temp_max_c: celsius(s.v.max!),
        temp_mean_c: nullable(celsius)(s.v.mean),
        temp_board_max_c: nullable(celsius)(s.v.board),
      })),
      total: ranked.length,
      limit,
      truncated: ranked.length > limit,
    };
    if (ranked.length === 0)
      out.hint = 'no temperature data in the window; widen window or check that the collector is running';
    else if (gap) out.hint = gap;
    return out;
  }

  async efficiencyRanking(caller: Caller, o: EfficiencyOptions = {}): Promise<EfficiencyRanking> {
    const tenant = this.tenantOf(caller);
    const limit = checkLimit('limit', o.limit, 20, 500);
    const order = o.order ?? 'worst';
    const range = resolveWindow(o.window ?? '1h', o.to, this.now(), MAX_RANGE_MS);
    const ws = await this.windowRows(tenant, range, o.site);
    const source = pickSource(range.toMs - range.fromMs, 'fleet', this.pollMs);
    const stats: GroupStats<'p' | 'h'>[] = ws
      ? ws.rows
      : await groupedStats(this.series, {
          tenant,
          measurement: source.measurement,
          ...range,
          specs: { p: { fn: 'mean', field: 'power_w' }, h: { fn: 'mean', field: 'hashrate_ghs' } },
          groupBy: ['miner', 'site', 'model'],
          tags: o.site !== undefined ? [{ tag: 'site', in: [o.site] }] : [],
        });
    // A miner not hashing now has no efficiency (its window mean mixes hashing and idle power).
    const idle = idleNow(await this.table(tenant));
    const idleHere = [...new Set(stats.map(s => s.tags.miner ?? '').filter(m => idle.has(m)))];
    const ranked = stats
      .filter(s => s.v.h !== null && s.v.h > 0 && s.v.p !== null && !idle.has(s.tags.miner ?? ''))
      .map(s => ({ s, eff: s.v.p! / (s.v.h! / 1_000) }))
      .sort((a, b) => (order === 'worst' ? b.eff - a.eff : a.eff - b.eff) || (a.s.key < b.s.key ? -1 : 1));
    const sumP = ranked.reduce((a, x) => a + x.s.v.p!, 0);
    const sumH = ranked.reduce((a, x) => a + x.s.v.h!, 0);
    const out: EfficiencyRanking = {
      window: windowOf(ws?.window ?? range),
      source: ws ? 'window_stats' : source.name,
      order,
      fleet_efficiency_jth: sumH > 0 ? jth(sumP / (sumH / 1_000)) : null,
      excluded: stats.length - ranked.length,
      items: ranked.slice(0, limit).map(({ s, eff }) => ({
        miner: s.tags.miner ?? '',
        site: s.tags.site ?? '',
        model: s.tags.model ?? null,
        efficiency_jth: jth(eff),
        hashrate_ths: ths(s.v.h!),
        power_w: watts(s.v.p!),
      })),
      total: ranked.length,
      limit,
      truncated: ranked.length > limit,
    };
    const hints: string[] = [];
    if (ranked.length === 0 && idleHere.length === 0)
      hints.push('no miner had both power and hashrate data in the window; widen window');
    else if (ws?.gap) hints.push(ws.gap);
    if (idleHere.length > 0) hints.push(idleNote(idleHere, idle));
    if (hints.length > 0) out.hint = hints.join('; ');
    return out;
  }

  async comparePeriods(caller: Caller, o: CompareOptions): Promise<ComparePeriods> {
    const tenant = this.tenantOf(caller);
    const now = this.now();
    const groupBy = o.groupBy ?? 'site';
    const ra = resolveRange(o.a, now, HOUR_MS, MAX_RANGE_MS, { from: 'a_from', to: 'a_to' });
    const rb = resolveRange(o.b, now, HOUR_MS, MAX_RANGE_MS, { from: 'b_from', to: 'b_to' });
    type Period = {
      source: ComparePeriods['a']['source'];
      /** time one `up` count stands for: a poll interval (window statistics) or the rollup window */
      unitMs: number;
      window: TimeRange;
      stats: GroupStats<'h' | 'p' | 'up'>[];
    };
    const period = async (r: TimeRange): Promise<Period> => {
      const ws = await this.windowRows(tenant, r, undefined);
      if (ws) return { source: 'window_stats', unitMs: this.pollMs, window: ws.window, stats: ws.rows };
      const source = pickSource(r.toMs - r.fromMs, 'fleet', this.pollMs);
      const stats = await groupedStats(this.series, {
        tenant,
        measurement: source.measurement,
        ...r,
        specs: {
          h: { fn: 'mean', field: 'hashrate_ghs' },
          p: { fn: 'mean', field: 'power_w' },
          up: { fn: 'mean', field: 'up' },
        },
        groupBy: ['miner', 'site', 'model'],
      });
      return { source: source.name, unitMs: source.resolutionMs, window: r, stats };
    };
    const [pa, pb] = await Promise.all([period(ra), period(rb)]);
    // Old edges are rounded to the buckets kept at their age; that must never make the two
    // periods one (or overlap more than asked): refuse, naming the resolution that is kept.
    const overlap = (x: TimeRange, y: TimeRange): number => Math.max(0, Math.min(x.toMs, y.toMs) - Math.max(x.fromMs, y.fromMs));
    if (overlap(pa.window, pb.window) > overlap(ra, rb)) {
      const res = finestResolutionAt(Math.min(ra.fromMs, rb.fromMs), now);
      throw new FleetError(
        'invalid_argument',
        `periods a and b would overlap at the resolution kept for that age (${res} per-miner statistics): give periods of whole ${res} buckets (a ${iso(pa.window.fromMs)}..${iso(pa.window.toMs)}, b ${iso(pb.window.fromMs)}..${iso(pb.window.toMs)} as resolved)`,
        { details: { field: 'a_from', finest_resolution: res } },
      );
    }
    const groupsOf = (p: Period): Map<string, PeriodStats> => {
      const by = new Map<string, GroupStats<'h' | 'p' | 'up'>[]>();
      for (const s of p.stats) {
        const g = s.tags[groupBy] ?? '';
        const list = by.get(g);
        if (list) list.push(s);
        else by.set(g, [s]);
      }
      return new Map([...by].map(([g, list]) => [g, periodStats(list, p.unitMs)]));
    };
    const ga = groupsOf(pa);
    const gb = groupsOf(pb);
    const names = [...new Set([...ga.keys(), ...gb.keys()])].sort();
    const ta = periodStats(pa.stats, pa.unitMs);
    const tb = periodStats(pb.stats, pb.unitMs);
    const out: ComparePeriods = {
      a: { ...windowOf(pa.window), source: pa.source },
      b: { ...windowOf(pb.window), source: pb.source },
      group_by: groupBy,
      groups: names.map(g => {
        const a = ga.get(g) ?? null;
        const b = gb.get(g) ?? null;
        return { group: g, a, b, delta: a && b ? periodDelta(a, b) : null };
      }),
      totals: { a: ta, b: tb, delta: periodDelta(ta, tb) },
    };
    if (pa.stats.length === 0 || pb.stats.length === 0)
      out.hint = `period ${pa.stats.length === 0 ? 'a' : 'b'} has no data; check its from/to`;
    return out;
  }

  async availability(caller: Caller, o: AvailabilityOptions = {}): Promise<Availability> {
    const tenant = this.tenantOf(caller);
    const limit = checkLimit('limit', o.limit, 20, 500);
    const level = o.level ?? 'miner';
    const range = resolveRange(o, this.now(), DAY_MS, MAX_RANGE_MS);
    const ws = await this.windowRows(tenant, range, o.site);
    const source = pickSource(range.toMs - range.fromMs, 'fleet', this.pollMs);
    const stats: GroupStats<'up'>[] = ws
      ? ws.rows
      : await groupedStats(this.series, {
          tenant,
          measurement: source.measurement,
          ...range,
          specs: { up: { fn: 'mean', field: 'up' } },
          groupBy: ['miner', 'site'],
          tags: o.site !== undefined ? [{ tag: 'site', in: [o.site] }] : [],
        });
    // Minutes one `up` count stands for: window statistics count polls, rollups count windows.
    const unitMin = (ws ? this.pollMs : source.resolutionMs) / 60_000;
    const rows = stats
      .filter(s => s.v.up !== null && s.n.up > 0)
      .map(s => ({
        miner: s.tags.miner ?? '',
        site: s.tags.site ?? '',
        polls: s.n.up,
        reached: s.v.up! * s.n.up,
      }));
    const fleetPolls = rows.reduce((a, r) => a + r.polls, 0);
    const fleetReached = rows.reduce((a, r) => a + r.reached, 0);
    let items: Availability['items'];
    if (level === 'site') {
      const sites = new Map<string, { miners: number; polls: number; reached: number }>();
      for (const r of rows) {
        const s = sites.get(r.site) ?? { miners: 0, polls: 0, reached: 0 };
        s.miners++;
        s.polls += r.polls;
        s.reached += r.reached;
        sites.set(r.site, s);
      }
      items = [...sites].map(([site, s]) => ({
        miner: null,
        site,
        miners: s.miners,
        availability_pct: pct((s.reached / s.polls) * 100),
        offline_minutes: minutes((s.polls - s.reached) * unitMin),
      }));
    } else {
      items = rows.map(r => ({
        miner: r.miner,
        site: r.site,
        miners: 1,
        availability_pct: pct((r.reached / r.polls) * 100),
        offline_minutes: minutes((r.polls - r.reached) * unitMin),
      }));
    }
    items.sort(
      (a, b) =>
        a.availability_pct - b.availability_pct ||
        b.offline_minutes - a.offline_minutes ||
        ((a.miner ?? a.site) < (b.miner ?? b.site) ? -1 : 1),
    );
    const out: Availability = {
      window: windowOf(ws?.window ?? range),
      source: ws ? 'window_stats' : source.name,
      level,
      fleet: {
        miners: rows.length,
        availability_pct: fleetPolls > 0 ? pct((fleetReached / fleetPolls) * 100) : null,
        offline_minutes: minutes((fleetPolls - fleetReached) * unitMin),
      },
      items: items.slice(0, limit),
      total: items.length,
      limit,
      truncated: items.length > limit,
    };
    if (rows.length === 0) out.hint = 'no poll data in this range; check from/to';
    else if (ws?.gap) out.hint = ws.gap;
    return out;
  }

  /**
   * Each miner's mean hashrate and power over a range and the share of polls that reached it,
   * from the same stored statistics as the analytics (window statistics, else the rollups):
   * what services that price a fleet's output (energy/profitability) multiply by time.
   */
  async minerMeans(caller: Caller, o: MinerMeansOptions = {}): Promise<MinerMeans> {
    const tenant = this.tenantOf(caller);
    const range = resolveRange(o, this.now(), o.defaultRangeMs ?? DAY_MS, MAX_RANGE_MS);
    const ws = await this.windowRows(tenant, range, o.site);
    const source = pickSource(range.toMs - range.fromMs, 'fleet', this.pollMs);
    const stats: GroupStats<'h' | 'p' | 'up'>[] = ws
      ? ws.rows
      : await groupedStats(this.series, {
          tenant,
          measurement: source.measurement,
          ...range,
          specs: { h: { fn: 'mean', field: 'hashrate_ghs' }, p: { fn: 'mean', field: 'power_w' }, up: { fn: 'mean', field: 'up' } },
          groupBy: ['miner', 'site', 'model'],
          tags: o.site !== undefined ? [{ tag: 'site', in: [o.site] }] : [],
        });
    return {
      window: ws?.window ?? range,
      source: ws ? 'window_stats' : source.name,
      rows: stats.map(s => ({
        miner: s.tags.miner ?? '',
        site: s.tags.site ?? '',
        model: s.tags.model ?? null,
        hashrate_ghs: s.v.h,
        power_w: s.v.p,
        up: s.v.up,
      })),
      ...(ws?.gap ? { gap: ws.gap } : {}),
    };
  }

  async events(caller: Caller, o: EventsOptions = {}): Promise<EventList> {
    const tenant = this.tenantOf(caller);
    const limit = checkLimit('limit', o.limit, 100, 1_000);
    const now = this.now();
    const f: EventFilter = {
      fromMs: o.from !== undefined ? parseTime('from', o.from, now) : undefined,
      toMs: o.to !== undefined ? parseTime('to', o.to, now) : undefined,
      // a hostname or address names its miner; an unknown ref stays as given (a removed miner's events)
      miner: o.miner === undefined ? undefined : await this.resolveMinerId(caller, o.miner),
      kind: o.kind,
      severity: o.severity,
    };
    if (f.fromMs !== undefined && f.toMs !== undefined && f.fromMs > f.toMs)
      throw new FleetError('invalid_argument', 'from must not be after to', { details: { field: 'from' } });
    const recent =
      f.toMs === undefined &&
      f.severity === undefined &&
      (f.fromMs === undefined || (await this.eventLog.covers(tenant, f.fromMs)));
    let got: { items: FleetEventItem[]; truncated: boolean };
    let source: EventList['source'];
    if (recent) {
      got = await recentEvents(this.eventLog, tenant, f, limit);
      source = 'recent';
      // An empty stream (e.g. Redis was flushed) falls back to the history.
      if (got.items.length === 0 && f.fromMs === undefined) {
        got = await historyEvents(this.eventLog, tenant, { ...f, fromMs: now - 7 * DAY_MS, toMs: now }, limit);
        source = 'history';
      }
    } else {
      const toMs = f.toMs ?? now;
      const fromMs = f.fromMs ?? toMs - 7 * DAY_MS;
      if (toMs - fromMs > MAX_RANGE_MS)
        throw new FleetError(
          'invalid_argument',
          `range exceeds the ${formatDuration(MAX_RANGE_MS)} maximum; narrow from/to`,
          { details: { field: 'from' } },
        );
      got = await historyEvents(this.eventLog, tenant, { ...f, fromMs, toMs }, limit);
      source = 'history';
    }
    const out: EventList = { items: got.items, limit, truncated: got.truncated, source };
    if (got.truncated)
      out.hint = 'more events match: narrow from/to, miner, kind or severity, or raise limit';
    else if (got.items.length === 0) out.hint = 'no events match; widen from/to or drop filters';
    return out;
  }

  // ---- internals -----------------------------------------------------------------------------

  /**
   * Per-miner statistics of a window from the collector's window statistics in Redis
   * (window-stats.ts), or null when Redis holds none for it: then the caller reads InfluxDB
   * (history older than the Redis statistics, or a collector that does not write them).
   */
  private async windowRows(tenant: string, range: TimeRange, site: string | undefined): Promise<WindowRows | null> {
    const clock = this.now();
    // A window its caller resolved to end "now" a moment ago still ends now (the open bucket).
    const now = range.toMs <= clock && clock - range.toMs <= NOW_SKEW_MS ? range.toMs : clock;
    let plan = planExactWindow(range, now);
    // Raw edges group raw points by miner (a series per miner on InfluxDB): only for small fleets.
    if (plan.edges.length > 0 && (await this.fleetFields(tenant, now)) > RAW_EDGE_MAX_FIELDS)
      plan = planExactWindow(range, now, { rawEdges: false });
    if (plan.units.length === 0 && plan.edges.length === 0) return null;
    const load = async (): Promise<WindowRows | null> => {
      const got = plan.units.length > 0 ? await readWindowStats(this.buckets, tenant, plan, { site, nowMs: this.now(), pollMs: this.pollMs }) : null;
      // Buckets planned but none in Redis: InfluxDB answers the whole window instead.
      if (got && !got.covered) return null;
      const edgeRows = await Promise.all(plan.edges.map(e => rawWindowRows(this.series, tenant, e, site)));
      const rows = edgeRows.length > 0 ? mergeWindowRows([got?.rows ?? [], ...edgeRows]) : (got?.rows ?? []);
      if (rows.length === 0) return null;
      const head = plan.edges.find(e => e.fromMs === plan.fromMs);
      const tail = plan.edges.find(e => e.toMs === plan.toMs);
      const covered = {
        fromMs: head ? plan.fromMs : (got?.covered?.fromMs ?? plan.fromMs),
        toMs: tail ? plan.toMs : (got?.covered?.toMs ?? plan.toMs),
      };
      const gap =
        covered.fromMs > plan.fromMs || covered.toMs < plan.toMs
          ? `per-miner window statistics exist only from ${iso(covered.fromMs)} to ${iso(covered.toMs)}; the window was narrowed to them`
          : undefined;
      return { rows, window: covered, ...(gap ? { gap } : {}) };
    };
    // A window that reaches into the open bucket changes with every poll: not kept.
    if (plan.toMs > Math.floor(now / 300_000) * 300_000) return await load();
    const key = `${tenant}\u0000${site ?? ''}\u0000${plan.fromMs}\u0000${plan.toMs}`;
    return await this.windows.get(key, load);
  }

  /** Fields in the last closed and the open 5-minute bucket, the larger: about the fleet's size. */
  private async fleetFields(tenant: string, now: number): Promise<number> {
    const open = Math.floor(now / 300_000) * 300_000;
    const sizes = await this.buckets.sizes(tenant, [
      { res: '5m', startMs: open - 300_000 },
      { res: '5m', startMs: open },
    ]);
    return Math.max(0, ...sizes);
  }

  private tenantOf(caller: Caller): string {
    if (!caller.tenant) throw new FleetError('forbidden', 'the caller has no tenant');
    if (!hasRole(caller, 'viewer'))
      throw new FleetError('forbidden', 'reading the fleet needs the viewer role (or higher)');
    return caller.tenant;
  }

  private isStale(lastMs: number | null, at = this.now()): boolean {
    return lastMs === null || at - lastMs > 3 * this.pollMs;
  }

  private async table(tenant: string): Promise<MinerTable> {
    return await this.tables.get(tenant, async () => {
      const end = this.metrics?.minerTableLoad.startTimer();
      try {
        // the table being replaced, however old, lends its unchanged values to the new one
        const table = await this.tableLoader.load(tenant, ++this.tableVersion, this.tables.latest(tenant));
        end?.({ result: 'ok' });
        return table;
      } catch (err) {
        end?.({ result: 'error' });
        throw err;
      }
    });
  }

  private unknownMiner(tenant: string, id: string): FleetError {
    return unknownMinerError(this.tables.peek(tenant), id, 'GET /api/v1/miners lists your miners');
  }

  private async assertMiner(tenant: string, id: string): Promise<void> {
    if (!(await this.state.hasMiner(tenant, id))) throw this.unknownMiner(tenant, id);
  }

  /**
   * The step for a range on a source: explicit (checked) or the default, a chart's worth of
   * points (≤ DEFAULT_SERIES_POINTS). On raw polls a default bucket spans two poll intervals, so
   * a late poll does not leave every other bucket null.
   */
  private stepFor(range: TimeRange, source: Source, requested: string | undefined): number {
    const rangeMs = range.toMs - range.fromMs;
    if (requested === undefined) {
      const floor = source.name === 'raw' ? 2 * source.resolutionMs : source.resolutionMs;
      return defaultStep(rangeMs, floor, DEFAULT_SERIES_POINTS);
    }
    const requestedMs = parseDuration('step', requested);
    // A step longer than the range would align the first bucket far before `from` (down to
    // 1970 for huge steps) and read the whole history; one bucket is the most a range holds.
    if (requestedMs > rangeMs) {
      throw new FleetError(
        'invalid_argument',
        `step: ${requested} is longer than the ${formatDuration(rangeMs)} range; use a step of at most ${formatDuration(rangeMs)}`,
        { details: { field: 'step', max_step: formatDuration(rangeMs) } },
      );
    }
    const step = Math.max(requestedMs, source.resolutionMs);
    const buckets = Math.ceil(rangeMs / step);
    if (buckets > MAX_SERIES_POINTS) {
      const min = defaultStep(rangeMs, source.resolutionMs, MAX_SERIES_POINTS);
      throw new FleetError(
        'invalid_argument',
        `step: ${requested} over ${formatDuration(rangeMs)} gives ${buckets} points, above the ${MAX_SERIES_POINTS} maximum; use step ${formatDuration(min)} or more`,
        {
          details: { field: 'step', min_step: formatDuration(min) },
        },
      );
    }
    return step;
  }

  /** Refuse raw hashboard scans that would read too many points (there are no board rollups). */
  private async checkBoardScan(tenant: string, site: string | undefined, range: TimeRange): Promise<void> {
    const agg = await this.state.aggregate(tenant, site);
    const boards = agg?.boards_total || (agg?.miners_total ?? 0) * 3;
    const points = boards * ((range.toMs - range.fromMs) / this.pollMs);
    if (points > this.maxRawPoints) {
      const maxWindow = Math.max(
        this.pollMs,
        Math.floor((this.maxRawPoints / Math.max(1, boards)) * this.pollMs),
      );
      throw new FleetError(
        'invalid_argument',
        `board-level analysis reads raw hashboard points: ${boards} boards over ${formatDuration(range.toMs - range.fromMs)} is about ${Math.round(points / 1e6)}M points (limit ${Math.round(this.maxRawPoints / 1e6)}M); use a window of at most ${formatDuration(Math.floor(maxWindow / 60_000) * 60_000 || this.pollMs)} or filter by site`,
        { details: { field: 'window' } },
      );
    }
  }

  private async loadSummary(tenant: string, table: MinerTable): Promise<SummaryCore> {
    const agg = await this.state.aggregate(tenant);
    const models = [...new Set(table.model.map(modelName))].sort();
    const body: Omit<FleetSummary, 'stale'> = {
      tenant,
      state: 'ok',
      updated_at: agg ? iso(agg.updated_ms) : null,
      totals: totalsOf(aggregateRows(table, null)),
      by_site: [...new Set(table.site)].sort().map(site => ({ site, ...totalsOf(aggregateRows(table, site)) })),
      by_model: models
        .map(model => ({ model, ...totalsOf(aggregateRows(table, null, i => modelName(table.model[i]!) === model)) }))
        .sort((a, b) => b.miners - a.miners || a.model.localeCompare(b.model)),
    };
    if (table.size === 0) Object.assign(body, await this.beforeFirstPoll(tenant));
    else if (!agg) body.hint = 'the collector has not written fleet aggregates yet; figures were computed from the latest snapshots';
    return { body, updatedMs: agg?.updated_ms ?? null };
  }

  /**
   * A tenant without polled miners: registered ones (the collector's resolved inventory, or
   * entries added through the API it has not read yet) are awaiting their first poll, due one
   * poll interval after the collector's last heartbeat. Only read while nothing was polled.
   */
  private async beforeFirstPoll(tenant: string): Promise<Pick<FleetSummary, 'state' | 'registered_miners' | 'first_poll_due' | 'hint'>> {
    const [resolved, added, beatMs] = await Promise.all([
      redisRead(() => this.inventory.readResolved()),
      redisRead(() => this.inventory.listEntries()),
      this.state.heartbeat(),
    ]);
    const ids = new Set<string>();
    for (const m of resolved) if (m.tenant === tenant) ids.add(m.id);
    for (const [id, e] of added) if (e?.tenant === tenant) ids.add(id);
    if (ids.size === 0)
      return { state: 'no_miners', hint: `tenant '${tenant}' has no miners yet; add miners to the inventory and start the collector` };
    const running = beatMs !== null && this.now() - beatMs <= 3 * this.pollMs;
    const due = running ? iso(Math.max(beatMs + this.pollMs, this.now())) : null;
    const n = ids.size === 1 ? '1 miner is' : `${ids.size} miners are`;
    return {
      state: 'awaiting_first_poll',
      registered_miners: ids.size,
      first_poll_due: due,
      hint: due
        ? `${n} registered; the first poll is due by ${due}`
        : `${n} registered; the first poll is due once the collector runs (no collector heartbeat; GET /health/ready shows it)`,
    };
  }

  private listItem(r: MinerRow, now: number): MinerListItem {
    return {
      id: r.id,
      hostname: r.hostname,
      address: r.address,
      site: r.site,
      model: r.model,
      firmware: r.firmware,
      status: r.status,
      degraded_reasons: [...r.degraded_reasons],
      hashrate_ths: nullable(ths)(r.hashrate_ghs),
      hashrate_nominal_ths: nullable(ths)(r.nominal_ghs),
      pct_nominal: nullable(pct)(r.pct_nominal),
      power_w: nullable(watts)(r.power_w),
      efficiency_jth: nullable(jth)(r.efficiency_jth),
      temp_chip_max_c: nullable(celsius)(r.temp_chip_max_c),
      boards_hashing: r.boards_hashing,
      boards_total: r.boards_total,
      fan_rpm_min: r.fan_rpm_min,
      uptime_s: r.system_uptime_s,
      pool: r.pool,
      labels: r.labels,
      last_seen: r.last_seen_ms === null ? null : iso(r.last_seen_ms),
      stale: this.isStale(r.last_seen_ms, now),
    };
  }

  private detail(snap: MinerSnapshot): MinerDetail {
    const s = snap.sample;
    const d = snap.details;
    // The same current and expected figures as the list and summary (miner-figures.ts).
    const hashrate = s ? currentHashrateGhs(s) : null;
    const nominal = s ? expectedHashrateGhs(s, d) : null;
    const boardExpected = s ? expectedBoardHashrateGhs(s, d) : null;
    const boardNominal = (ghs: number): number => (ghs > 0 ? ghs : (boardExpected ?? 0));
    return {
      id: snap.ref.id,
      site: snap.ref.site,
      address: snap.ref.address,
      labels: snap.ref.labels ?? {},
      hostname: s?.hostname || d?.hostname || null,
      model: s?.model || d?.model || null,
      firmware: s?.firmware || d?.firmware || null,
      status: snap.status,
      degraded_reasons: s?.degraded_reasons ?? [],
      miner_status: s?.miner_status ?? null,
      tuner_state: s?.tuner_state ?? null,
      last_seen: snap.last_seen_ms === null ? null : iso(snap.last_seen_ms),
      last_poll: iso(snap.last_poll_ms),
      stale: this.isStale(snap.last_seen_ms),
      consecutive_failures: snap.consecutive_failures,
      last_error: snap.last_error,
      sample_time: s ? iso(s.time_ms) : null,
      uptime_s: s?.uptime_s ?? null,
      hashrate_ths: nullable(ths)(hashrate),
      hashrate_5m_ths: nullable(ths)(s?.hashrate_5m_ghs),
      hashrate_nominal_ths: nullable(ths)(nominal),
      pct_nominal: hashrate !== null && nominal !== null ? ratioPct(hashrate, nominal) : null,
      power_w: nullable(watts)(s?.power_w),
      power_target_w: nullable(watts)(s?.power_target_w),
      efficiency_jth: hashrate !== null && hashrate > 0 ? detailEfficiency(s!, hashrate) : null,
      temp_chip_max_c: nullable(celsius)(s?.temp_chip_max_c),
      temp_board_max_c: nullable(celsius)(s?.temp_board_max_c),
      fan_rpm_min: s?.fan_rpm_min ?? null,
      fan_rpm_avg: s?.fan_rpm_avg ?? null,
      shares: s ? { accepted: s.shares_accepted, rejected: s.shares_rejected, stale: s.shares_stale } : null,
      boards_hashing: s?.boards_hashing ?? null,
      boards_total: s?.boards_total ?? null,
      boards: (s?.hashboards ?? []).map(b => ({
        board: b.board,
        enabled: b.enabled,
        hashrate_ths: ths(b.hashrate_ghs),
        hashrate_nominal_ths: ths(boardNominal(b.hashrate_nominal_ghs)),
        pct_nominal: ratioPct(b.hashrate_ghs, boardNominal(b.hashrate_nominal_ghs)),
        temp_chip_c: nullable(celsius)(b.temp_chip_c),
        temp_board_c: nullable(celsius)(b.temp_board_c),
        temp_inlet_c: nullable(celsius)(b.temp_inlet_c),
        temp_outlet_c: nullable(celsius)(b.temp_outlet_c),
        voltage_v: b.voltage_v,
        frequency_mhz: b.frequency_mhz,
        chips: b.chips,
      })),
      fans: (s?.fans ?? []).map(f => ({
        fan: f.fan,
        rpm: f.rpm,
        pwm_pct: f.pwm_ratio === null ? null : pct(f.pwm_ratio * 100),
      })),
      pools: (s?.pools ?? []).map(p => ({
        group: p.group,
        url: p.pool,
        user: p.user,
        enabled: p.enabled,
        active: p.active,
        alive: p.alive,
        accepted: p.accepted,
        rejected: p.rejected,
        stale: p.stale,
      })),
      details: d
        ? {
            uid: d.uid,
            serial: d.serial,
            mac: d.mac,
            platform: d.platform,
            api_version: d.api_version,
            sticker_hashrate_ths: nullable(ths)(d.sticker_hashrate_ghs),
            fetched_at: iso(d.fetched_ms),
            errors: d.errors ?? null,
          }
        : null,
    };
  }
}

// ---- helpers ---------------------------------------------------------------------------------

function parseLabels(label: string | string[] | undefined): [string, string][] | undefined {
  if (label === undefined) return undefined;
  return (Array.isArray(label) ? label : [label]).map(l => {
    const at = l.indexOf('=');
    if (at <= 0)
      throw new FleetError('invalid_argument', `label: expected key=value such as rack=r1 (got '${l}')`, {
        details: { field: 'label' },
      });
    return [l.slice(0, at), l.slice(at + 1)];
  });
}

function parseMetrics(input: readonly TelemetryMetric[] | string | undefined): TelemetryMetric[] {
  const list =
    input === undefined
      ? ['hashrate_ths', 'power_w', 'temp_chip_max_c']
      : typeof input === 'string'
        ? input
            .split(',')
            .map(s => s.trim())
            .filter(Boolean)
        : [...input];
  const bad = list.filter(m => !(TELEMETRY_METRIC_NAMES as string[]).includes(m));
  if (list.length === 0 || bad.length > 0) {
    throw new FleetError(
      'invalid_argument',
      `metrics: ${bad.length > 0 ? `unknown ${bad.map(b => `'${b}'`).join(', ')}; ` : ''}expected a list of: ${TELEMETRY_METRIC_NAMES.join(', ')}`,
      {
        details: { field: 'metrics' },
      },
    );
  }
  return [...new Set(list)] as TelemetryMetric[];
}

function totalsOf(a: FleetAggregate): FleetTotals {
  const by_status = { ...zeroStatus(), ...a.by_status };
  return {
    miners: a.miners_total,
    by_status,
    overheating: a.overheating,
    hashrate_ths: ths(a.hashrate_ghs),
    hashrate_nominal_ths: ths(a.hashrate_nominal_ghs),
    pct_nominal: ratioPct(a.hashrate_ghs, a.hashrate_nominal_ghs),
    power_kw: kw(a.power_w),
    efficiency_jth: a.hashrate_ghs > 0 ? jth(a.power_w / (a.hashrate_ghs / 1_000)) : null,
    boards_hashing: a.boards_hashing,
    boards_total: a.boards_total,
  };
}

/** A FleetAggregate from the table's rows, of one site or all (same rules as the collector: values only from reached miners). */
/** J/TH of a hashing miner: what it reports, else power over hashrate (as the miner table does). */
function detailEfficiency(s: MinerSample, hashrateGhs: number): number | null {
  if (s.efficiency_jth !== null && Number.isFinite(s.efficiency_jth)) return jth(s.efficiency_jth);
  return s.power_w !== null ? jth(s.power_w / (hashrateGhs / 1_000)) : null;
}

/** The model a miner is counted under in by_model ('unknown' when nothing names it). */
const modelName = (m: string | null): string => m ?? 'unknown';

function aggregateRows(t: MinerTable, site: string | null, keep?: (row: number) => boolean): FleetAggregate {
  const a: FleetAggregate = {
    tenant: t.tenant,
    site,
    updated_ms: Date.now(),
    miners_total: 0,
    by_status: zeroStatus(),
    overheating: 0,
    hashrate_ghs: 0,
    hashrate_nominal_ghs: 0,
    power_w: 0,
    boards_hashing: 0,
    boards_total: 0,
  };
  const add = (v: number): number => (Number.isNaN(v) ? 0 : v);
  for (let i = 0; i < t.size; i++) {
    if (site !== null && t.site[i] !== site) continue;
    if (keep && !keep(i)) continue;
    a.miners_total++;
    a.by_status[t.status[i]!]++;
    if (t.reached[i] !== 1) continue;
    if (t.degraded[i]!.includes('overheating')) a.overheating++;
    a.hashrate_ghs += add(t.hashrate_ghs[i]!);
    a.hashrate_nominal_ghs += add(t.nominal_ghs[i]!);
    a.power_w += add(t.power_w[i]!);
    a.boards_hashing += add(t.boards_hashing[i]!);
    a.boards_total += add(t.boards_total[i]!);
  }
  return a;
}

function periodStats(list: readonly GroupStats<'h' | 'p' | 'up'>[], resolutionMs: number): PeriodStats {
  let h = 0;
  let p = 0;
  let polls = 0;
  let reached = 0;
  for (const s of list) {
    h += s.v.h ?? 0;
    p += s.v.p ?? 0;
    if (s.v.up !== null) {
      polls += s.n.up;
      reached += s.v.up * s.n.up;
    }
  }
  return {
    miners: list.length,
    hashrate_ths: ths(h),
    power_kw: kw(p),
    efficiency_jth: h > 0 ? jth(p / (h / 1_000)) : null,
    availability_pct: polls > 0 ? pct((reached / polls) * 100) : null,
    offline_minutes: minutes(((polls - reached) * resolutionMs) / 60_000),
  };
}

function periodDelta(a: PeriodStats, b: PeriodStats): ComparePeriods['totals']['delta'] {
  const diff = (x: number, y: number, digits: number): number =>
    Math.round((y - x) * 10 ** digits) / 10 ** digits;
  return {
    hashrate_ths: diff(a.hashrate_ths, b.hashrate_ths, 3),
    hashrate_pct: a.hashrate_ths > 0 ? pct(((b.hashrate_ths - a.hashrate_ths) / a.hashrate_ths) * 100) : null,
    power_kw: diff(a.power_kw, b.power_kw, 3),
    power_pct: a.power_kw > 0 ? pct(((b.power_kw - a.power_kw) / a.power_kw) * 100) : null,
    efficiency_jth:
      a.efficiency_jth !== null && b.efficiency_jth !== null
        ? diff(a.efficiency_jth, b.efficiency_jth, 2)
        : null,
    availability_pct:
      a.availability_pct !== null && b.availability_pct !== null
        ? diff(a.availability_pct, b.availability_pct, 2)
        : null,
    offline_minutes: diff(a.offline_minutes, b.offline_minutes, 1),
    miners: b.miners - a.miners,
  };
}

/** Per pool URL over the reached miners of a table (optionally one site), most used first. */
function poolHealthOf(table: MinerTable, site: string | undefined, limit: number): PoolHealth {
  const pools = new Map<
    string,
    {
      url: string;
      miners: number;
      active_miners: number;
      alive: number;
      dead: number;
      accepted: number;
      rejected: number;
      stale: number;
    }
  >();
  let reporting = 0;
  const t = table;
  for (let i = 0; i < t.size; i++) {
    if (t.reached[i] !== 1 || (site !== undefined && t.site[i] !== site)) continue;
    reporting++;
    const seen = new Set<string>();
    for (let j = t.poolStart[i]!; j < t.poolStart[i + 1]!; j++) {
      const flags = t.poolFlags[j]!;
      if (!(flags & POOL_ENABLED)) continue;
      const url = t.poolUrl[j]!;
      let e = pools.get(url);
      if (!e)
        pools.set(
          url,
          (e = {
            url,
            miners: 0,
            active_miners: 0,
            alive: 0,
            dead: 0,
            accepted: 0,
            rejected: 0,
            stale: 0,
          }),
        );
      if (!seen.has(url)) {
        seen.add(url);
        e.miners++;
      }
      if (flags & POOL_ACTIVE) e.active_miners++;
      if (flags & POOL_ALIVE) e.alive++;
      else e.dead++;
      e.accepted += t.poolAccepted[j]!;
      e.rejected += t.poolRejected[j]!;
      e.stale += t.poolStale[j]!;
    }
  }
  const all = [...pools.values()].sort((a, b) => b.miners - a.miners || (a.url < b.url ? -1 : 1));
  const items = all.slice(0, limit).map(p => {
    const shares = p.accepted + p.rejected + p.stale;
    return { ...p, rejected_pct: ratioPct(p.rejected, shares), stale_pct: ratioPct(p.stale, shares) };
  });
  const out: PoolHealth = {
    items,
    total: all.length,
    limit,
    truncated: all.length > limit,
    miners_reporting: reporting,
    updated_at: iso(table.loadedMs),
  };
  if (all.length === 0)
    out.hint =
      reporting === 0
        ? 'no reached miner reports pools (are the miners online?)'
        : 'no enabled pool is configured on the reached miners';
  return out;
}
