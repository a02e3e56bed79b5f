/**
 * Builds the Grafana dashboards (Classic JSON model) in dashboards/grafana/dashboards/.
 * The JSON files are what Grafana provisions; this file is their source, so the 40-odd
 * panels share one set of filters, units and query shapes. After editing run
 *   npx node dashboards/grafana/generate.ts
 * test/dashboards checks that the files match it.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Grafana 12.0's schema; 12.3 migrates it on load (v42 only touches hideFrom overrides, unused here). */
export const SCHEMA_VERSION = 41;
export const INFLUX = { type: 'influxdb', uid: 'bosfleet-influx' } as const;
export const DASHBOARDS_DIR = join(fileURLToPath(new URL('.', import.meta.url)), 'dashboards');

type Json = string | number | boolean | null | Json[] | { [key: string]: Json | undefined };
type Obj = { [key: string]: Json | undefined };

const UID = {
  overview: 'bosfleet-fleet-overview',
  miner: 'bosfleet-miner-detail',
  sites: 'bosfleet-sites-pools',
};

// Grafana unit ids. Hash rates stay in GH/s as stored; `GHs` scales to TH/s, PH/s, EH/s itself.
const U = {
  ghs: 'GHs',
  w: 'watt',
  jth: 'suffix:J/TH',
  c: 'celsius',
  pct: 'percent',
  ratio: 'percentunit',
  rpm: 'rotrpm',
  v: 'volt',
  mhz: 'suffix:MHz',
  s: 's',
  n: 'short',
} as const;

// ---- query fragments -------------------------------------------------------------------

const TENANT = `"tenant" =~ /^$tenant$/`;
const SITE = `"site" =~ /^$site$/`;
const MODEL = `"model" =~ /^$model$/`;
const MINER = `"miner" =~ /^$miner$/`;
/** "Now" = each miner's latest point within 15 min before the end of the range, so miners
 * that left the inventory stop counting and an offline miner's (backed-off) polls still do. */
const LATEST = 'time >= ${__to}ms - 15m';

const oneLine = (s: string): string => s.replace(/\s+/g, ' ').trim();

/**
 * Fleet totals per time bucket: mean per miner first, then summed, so a bucket holding two
 * polls of one miner does not count it twice. Panels using it have a 1m min interval, so
 * every miner has a point in every bucket for raw data and 1m rollups alike.
 */
function perMinerSum(opts: {
  fields: Record<string, string>;
  outer: string;
  where: string;
  by?: string;
}): string {
  const inner = Object.entries(opts.fields)
    .map(([alias, expr]) => `${expr} AS "${alias}"`)
    .join(', ');
  const by = opts.by ? `, "${opts.by}"` : '';
  return oneLine(`SELECT ${opts.outer} FROM (
      SELECT ${inner} FROM "$source" WHERE ${opts.where} AND $timeFilter
      GROUP BY time($__interval), "tenant"${by}, "miner" fill(none)
    ) WHERE $timeFilter GROUP BY time($__interval)${by} fill(none)`);
}

/**
 * The miner's latest `field`, or 0 when its latest poll did not reach it: the collector's
 * offline points carry only up=0 and status, so a plain last() would keep reporting the
 * value from before the miner went away.
 */
const fresh = (field: string): string => `last("${field}") * last("up")`;
const lastOf = (field: string): string => `last("${field}")`;

/** Latest values per miner (see LATEST; `fields`: alias -> expression), aggregated by `outer` per `by` tags. */
function latestPerMiner(opts: {
  fields: Record<string, string>;
  outer: string;
  where: string;
  by?: string[];
  /** extra inner grouping, e.g. one row per miner and pool */
  innerBy?: string[];
  measurement?: string;
}): string {
  const inner = Object.entries(opts.fields)
    .map(([alias, expr]) => `${expr} AS "${alias}"`)
    .join(', ');
  const quote = (tags: string[]): string => tags.map(t => `"${t}"`).join(', ');
  const innerBy = quote(['tenant', ...(opts.innerBy ?? opts.by ?? []), 'miner']);
  const outerBy = opts.by?.length ? ` GROUP BY ${quote(opts.by)}` : '';
  return oneLine(`SELECT ${opts.outer} FROM (
      SELECT ${inner} FROM "${opts.measurement ?? 'miner'}" WHERE ${opts.where} AND $timeFilter AND ${LATEST}
      GROUP BY ${innerBy}
    ) WHERE $timeFilter${outerBy}`);
}

// ---- panels -------------------------------------------------------------------------------

interface Q {
  query: string;
  alias?: string;
  table?: boolean;
}
type Steps = [string, number | null][];
interface Spec {
  w: number;
  h: number;
  panel: Obj;
}

function targets(qs: Q[]): Obj[] {
  return qs.map((q, i) => ({
    refId: String.fromCharCode(65 + i),
    datasource: INFLUX,
    rawQuery: true,
    resultFormat: q.table ? 'table' : 'time_series',
    query: oneLine(q.query),
    // series named after the AS aliases ("hashrate"), not "miner.hashrate"
    alias: q.alias ?? (q.table ? undefined : '$col'),
  }));
}

const thresholds = (steps: Steps): Obj => ({
  mode: 'absolute',
  steps: steps.map(([color, value]) => ({ color, value })),
});
const GREEN: Steps = [['green', null]];
const HASH_PCT: Steps = [
  ['red', null],
  ['orange', 90],
  ['green', 97],
];
const CHIP_TEMP: Steps = [
  ['green', null],
  ['orange', 80],
  ['red', 90],
];

/** Value mappings for the collector's health status strings. */
const STATUS_COLORS: Obj = {
  type: 'value',
  options: {
    online: { color: 'green', index: 0 },
    degraded: { color: 'orange', index: 1 },
    offline: { color: 'red', index: 2 },
    paused: { color: 'blue', index: 3 },
    stopped: { color: 'purple', index: 4 },
    stable: { color: 'green', index: 5 },
    tuning: { color: 'yellow', index: 6 },
    error: { color: 'red', index: 7 },
  },
};
const BOOL_MAPPING: Obj = {
  type: 'value',
  options: { '0': { text: 'no', color: 'red', index: 0 }, '1': { text: 'yes', color: 'green', index: 1 } },
};

const byName = (name: string, properties: Obj[]): Obj => ({
  matcher: { id: 'byName', options: name },
  properties,
});
const byRegex = (re: string, properties: Obj[]): Obj => ({
  matcher: { id: 'byRegexp', options: re },
  properties,
});
const prop = (id: string, value: Json): Obj => ({ id, value });
const DASHED: Obj = prop('custom.lineStyle', { fill: 'dash', dash: [10, 10] });

/** A table column: display name, unit and optional extra properties. */
function col(name: string, display: string, unit?: string, ...extra: Obj[]): Obj {
  return byName(name, [prop('displayName', display), ...(unit ? [prop('unit', unit)] : []), ...extra]);
}

const MINER_LINK = prop('links', [
  {
    title: 'Miner detail',
    url: `/d/${UID.miner}/miner-detail?\${tenant:queryparam}&var-miner=\${__value.raw}&\${__url_time_range}`,
  },
]);

interface TsOpts {
  unit: string;
  q: Q[];
  w?: number;
  h?: number;
  description?: string;
  /** lower bound for $__interval; '1m' for fleet sums (see perMinerSum) */
  minInterval?: string;
  stack?: boolean;
  min?: number;
  max?: number;
  axisLabel?: string;
  overrides?: Obj[];
}

function timeseries(title: string, o: TsOpts): Spec {
  return {
    w: o.w ?? 12,
    h: o.h ?? 8,
    panel: {
      type: 'timeseries',
      title,
      description: o.description,
      datasource: INFLUX,
      interval: o.minInterval,
      targets: targets(o.q),
      fieldConfig: {
        defaults: {
          unit: o.unit,
          min: o.min,
          max: o.max,
          color: { mode: 'palette-classic' },
          custom: {
            drawStyle: 'line',
            lineWidth: 1,
            fillOpacity: o.stack ? 30 : 10,
            showPoints: 'auto',
            axisLabel: o.axisLabel,
            stacking: { mode: o.stack ? 'normal' : 'none', group: 'A' },
          },
        },
        overrides: o.overrides ?? [],
      },
      options: {
        legend: { showLegend: true, displayMode: 'list', placement: 'bottom', calcs: [] },
        tooltip: { mode: 'multi', sort: 'desc' },
      },
    },
  };
}

interface StatOpts {
  q: Q[];
  unit?: string;
  w?: number;
  h?: number;
  description?: string;
  steps?: Steps;
  mappings?: Obj[];
  /** show a string column (e.g. /^status$/) instead of numeric fields */
  fields?: string;
  colorMode?: 'value' | 'background' | 'none';
  decimals?: number;
  overrides?: Obj[];
}

function stat(title: string, o: StatOpts): Spec {
  return {
    w: o.w ?? 4,
    h: o.h ?? 4,
    panel: {
      type: 'stat',
      title,
      description: o.description,
      datasource: INFLUX,
      targets: targets(o.q),
      fieldConfig: {
        defaults: {
          unit: o.unit,
          decimals: o.decimals,
          color: { mode: 'thresholds' },
          thresholds: thresholds(o.steps ?? GREEN),
          mappings: o.mappings ?? [],
        },
        overrides: o.overrides ?? [],
      },
      options: {
        reduceOptions: { values: false, calcs: ['lastNotNull'], fields: o.fields ?? '' },
        colorMode: o.colorMode ?? 'value',
        graphMode: 'none',
        justifyMode: 'auto',
        textMode: 'value_and_name',
        orientation: 'auto',
        wideLayout: true,
        showPercentChange: false,
      },
    },
  };
}

interface TableOpts {
  q: Q[];
  w?: number;
  h?: number;
  description?: string;
  columns: Obj[];
  sortBy?: { displayName: string; desc: boolean };
  transformations?: Obj[];
  showTime?: boolean;
  /** join the results of several queries on this column */
  joinOn?: string;
}

function table(title: string, o: TableOpts): Spec {
  return {
    w: o.w ?? 12,
    h: o.h ?? 9,
    panel: {
      type: 'table',
      title,
      description: o.description,
      datasource: INFLUX,
      targets: targets(o.q.map(q => ({ ...q, table: true }))),
      transformations: [
        ...(o.joinOn ? [{ id: 'joinByField', options: { byField: o.joinOn, mode: 'outer' } }] : []),
        ...(o.transformations ?? []),
        {
          id: 'organize',
          // joined frames keep their own time columns as "Time 1", "Time 2"
          options: {
            excludeByName: { Time: !o.showTime, 'Time 1': true, 'Time 2': true, tenant: true },
            renameByName: {},
          },
        },
      ],
      fieldConfig: {
        defaults: { custom: { align: 'auto', cellOptions: { type: 'auto' } }, thresholds: thresholds(GREEN) },
        overrides: o.columns,
      },
      options: {
        showHeader: true,
        cellHeight: 'sm',
        footer: { show: false, reducer: ['sum'], countRows: false, fields: '' },
        sortBy: o.sortBy ? [o.sortBy] : [],
      },
    },
  };
}

function stateTimeline(title: string, o: { q: Q[]; w?: number; h?: number; description?: string }): Spec {
  return {
    w: o.w ?? 24,
    h: o.h ?? 5,
    panel: {
      type: 'state-timeline',
      title,
      description: o.description,
      datasource: INFLUX,
      targets: targets(o.q),
      fieldConfig: {
        defaults: { color: { mode: 'thresholds' }, thresholds: thresholds(GREEN), mappings: [STATUS_COLORS] },
        overrides: [],
      },
      options: {
        showValue: 'auto',
        mergeValues: true,
        alignValue: 'left',
        rowHeight: 0.9,
        legend: { showLegend: false, displayMode: 'list', placement: 'bottom' },
        tooltip: { mode: 'single', sort: 'none' },
      },
    },
  };
}

function barGauge(
  title: string,
  o: { q: Q[]; w?: number; h?: number; description?: string; transformations: Obj[] },
): Spec {
  return {
    w: o.w ?? 4,
    h: o.h ?? 8,
    panel: {
      type: 'bargauge',
      title,
      description: o.description,
      datasource: INFLUX,
      targets: targets(o.q),
      transformations: o.transformations,
      fieldConfig: {
        defaults: {
          unit: U.n,
          min: 0,
          color: { mode: 'fixed', fixedColor: 'blue' },
          thresholds: thresholds(GREEN),
        },
        overrides: [],
      },
      options: {
        reduceOptions: { values: true, calcs: [], fields: '' },
        orientation: 'horizontal',
        displayMode: 'basic',
        valueMode: 'color',
        showUnfilled: true,
        namePlacement: 'auto',
        sizing: 'auto',
        minVizHeight: 16,
        minVizWidth: 8,
        maxVizHeight: 300,
      },
    },
  };
}

const row = (title: string): Spec => ({
  w: 24,
  h: 1,
  panel: { type: 'row', title, collapsed: false, panels: [] },
});

/** Assigns ids and flows panels left to right, wrapping at 24 columns. */
function layout(specs: Spec[]): Obj[] {
  let x = 0;
  let y = 0;
  let lineHeight = 0;
  return specs.map((s, i) => {
    if (x + s.w > 24 || s.panel.type === 'row') {
      y += lineHeight;
      x = 0;
      lineHeight = 0;
    }
    const panel = { ...s.panel, id: i + 1, gridPos: { h: s.h, w: s.w, x, y } };
    x += s.w;
    lineHeight = Math.max(lineHeight, s.h);
    return panel;
  });
}

// ---- variables, annotations, links ----------------------------------------------------------

function tagVariable(name: string, label: string, where: string[], opts: { multi?: boolean } = {}): Obj {
  const multi = opts.multi ?? true;
  const cond = [...where, '$timeFilter'].join(' AND ');
  const query = `SHOW TAG VALUES FROM "miner" WITH KEY = "${name}" WHERE ${cond}`;
  return {
    type: 'query',
    name,
    label,
    datasource: INFLUX,
    query,
    definition: query,
    // on time range change: $timeFilter keeps the list to miners seen in the range
    // (InfluxDB 3 would otherwise only look at the last day)
    refresh: 2,
    multi,
    includeAll: multi,
    // `.*` instead of a regex listing every value: short queries on big fleets
    allValue: multi ? '.*' : undefined,
    current: multi ? { text: ['All'], value: ['$__all'] } : {},
    options: [],
    regex: '',
    sort: 1,
    hide: 0,
  };
}

const SOURCE_VARIABLE: Obj = {
  type: 'custom',
  name: 'source',
  label: 'Resolution',
  description:
    'Series read by the trend panels: raw polls (short ranges), 1-minute rollups (up to about a week) or 1-hour rollups (longer). The links at the top set range and resolution together.',
  query: 'raw : miner, 1m rollup : miner_1m, 1h rollup : miner_1h',
  current: { text: '1m rollup', value: 'miner_1m' },
  options: [
    { text: 'raw', value: 'miner', selected: false },
    { text: '1m rollup', value: 'miner_1m', selected: true },
    { text: '1h rollup', value: 'miner_1h', selected: false },
  ],
  multi: false,
  includeAll: false,
  hide: 0,
};

function annotation(name: string, color: string, where: string, tags: string): Obj {
  return {
    name,
    datasource: INFLUX,
    enable: true,
    iconColor: color,
    target: {
      refId: 'Anno',
      rawQuery: true,
      fromAnnotations: true,
      queryType: 'tags',
      query: oneLine(
        `SELECT "message", ${tags
          .split(',')
          .map(t => `"${t}"`)
          .join(', ')} FROM "event" WHERE ${where} AND $timeFilter`,
      ),
      textColumn: 'message',
      tagsColumn: tags,
      titleColumn: '',
      timeEndColumn: '',
    },
  };
}

const fleetEventAnnotations = (where: string): Obj[] => [
  annotation(
    'Warnings',
    'orange',
    `${where} AND "severity" =~ /^(warning|critical)$/`,
    'kind,severity,site,miner',
  ),
  annotation(
    'Control actions',
    'blue',
    `${where} AND "kind" =~ /^(control_action|job_step)$/`,
    'kind,site,miner',
  ),
];

/** Preset links pairing a time range with the matching resolution (Grafana cannot switch
 * the measurement from the range by itself for InfluxQL). */
function rangeLinks(uid: string, slug: string, vars: string[]): Obj[] {
  const keep = vars.map(v => `\${${v}:queryparam}`).join('&');
  const preset = (title: string, from: string, source: string): Obj => ({
    title,
    type: 'link',
    icon: 'dashboard',
    url: `/d/${uid}/${slug}?from=${from}&to=now&var-source=${source}&${keep}`,
    includeVars: false,
    keepTime: false,
    targetBlank: false,
    asDropdown: false,
    tags: [],
    tooltip: '',
  });
  return [
    {
      title: 'bos-fleet',
      type: 'dashboards',
      tags: ['bos-fleet'],
      asDropdown: true,
      includeVars: true,
      keepTime: true,
      icon: 'external link',
      targetBlank: false,
      tooltip: '',
      url: '',
    },
    preset('6h · raw', 'now-6h', 'miner'),
    preset('7d · 1m rollup', 'now-7d', 'miner_1m'),
    preset('90d · 1h rollup', 'now-90d', 'miner_1h'),
  ];
}

function dashboard(o: {
  uid: string;
  title: string;
  description: string;
  variables: Obj[];
  annotations: Obj[];
  links: Obj[];
  panels: Spec[];
}): Obj {
  return {
    uid: o.uid,
    title: o.title,
    description: o.description,
    tags: ['bos-fleet'],
    schemaVersion: SCHEMA_VERSION,
    version: 1,
    editable: false,
    graphTooltip: 1,
    timezone: 'browser',
    refresh: '1m',
    time: { from: 'now-6h', to: 'now' },
    timepicker: {},
    fiscalYearStartMonth: 0,
    liveNow: false,
    links: o.links,
    // Grafana adds its built-in "Annotations & Alerts" entry itself.
    annotations: { list: o.annotations },
    templating: { list: o.variables },
    panels: layout(o.panels),
  };
}

// ---- Fleet overview ---------------------------------------------------------------------------

function fleetOverview(): Obj {
  const F = `${TENANT} AND ${SITE} AND ${MODEL}`;
  const latest = (fields: Record<string, string>, outer: string, by?: string[]): string =>
    latestPerMiner({ fields, outer, where: F, by });
  const HNP = {
    h: fresh('hashrate_ghs'),
    n: fresh('hashrate_nominal_ghs'),
    p: fresh('power_w'),
    up: lastOf('up'),
  };
  const siteOrModel = (tag: 'site' | 'model'): Spec =>
    table(`${tag === 'site' ? 'Sites' : 'Models'} now`, {
      q: [
        {
          query: latest(
            { ...HNP, bh: fresh('boards_hashing'), bt: fresh('boards_total') },
            `count("up") AS "miners", sum("up") AS "reachable", sum("h") AS "hashrate", sum("n") AS "nominal",
             sum("h") / sum("n") * 100 AS "pct_nominal", sum("p") AS "power", sum("p") / sum("h") * 1000 AS "efficiency",
             sum("bt") - sum("bh") AS "boards_down"`,
            [tag],
          ),
        },
      ],
      columns: [
        col(tag, tag === 'site' ? 'Site' : 'Model'),
        col('miners', 'Miners'),
        col('reachable', 'Reachable'),
        col('hashrate', 'Hashrate', U.ghs),
        col('nominal', 'Nominal', U.ghs),
        col(
          'pct_nominal',
          '% nominal',
          U.pct,
          prop('decimals', 1),
          prop('thresholds', thresholds(HASH_PCT)),
          prop('custom.cellOptions', { type: 'color-text' }),
        ),
        col('power', 'Power', U.w),
        col('efficiency', 'Efficiency', U.jth, prop('decimals', 1)),
        col(
          'boards_down',
          'Boards not hashing',
          undefined,
          prop(
            'thresholds',
            thresholds([
              ['green', null],
              ['red', 1],
            ]),
          ),
          prop('custom.cellOptions', { type: 'color-text' }),
        ),
      ],
      sortBy: { displayName: 'Hashrate', desc: true },
    });

  return dashboard({
    uid: UID.overview,
    title: 'bos-fleet · Fleet overview',
    description: 'Hashrate, power, efficiency and health of the whole fleet, by site and model.',
    variables: [
      tagVariable('tenant', 'Tenant', []),
      tagVariable('site', 'Site', [TENANT]),
      tagVariable('model', 'Model', [TENANT, SITE]),
      SOURCE_VARIABLE,
    ],
    annotations: fleetEventAnnotations(`${TENANT} AND ${SITE}`),
    links: rangeLinks(UID.overview, 'fleet-overview', ['tenant', 'site', 'model']),
    panels: [
      row('Now (latest poll of each miner)'),
      stat('Hashrate', {
        h: 5,
        unit: U.ghs,
        q: [{ query: latest(HNP, `sum("h") AS "hashrate", sum("n") AS "nominal"`) }],
        description: "Sum of each miner's latest real hashrate and its nominal (factory/tuned) hashrate.",
      }),
      stat('% of nominal', {
        h: 5,
        unit: U.pct,
        decimals: 1,
        steps: HASH_PCT,
        q: [{ query: latest(HNP, `sum("h") / sum("n") * 100 AS "of nominal"`) }],
      }),
      stat('Power', { h: 5, unit: U.w, q: [{ query: latest(HNP, `sum("p") AS "power"`) }] }),
      stat('Efficiency', {
        h: 5,
        unit: U.jth,
        decimals: 1,
        q: [{ query: latest(HNP, `sum("p") / sum("h") * 1000 AS "efficiency"`) }],
        description: 'Fleet power divided by fleet hashrate (W per TH/s = J/TH). Lower is better.',
      }),
      stat('Reachable', {
        h: 5,
        q: [{ query: latest(HNP, `sum("up") AS "reachable", count("up") - sum("up") AS "unreachable"`) }],
        description: 'Miners whose latest poll reached them, and those whose latest poll failed.',
        overrides: [
          byName('unreachable', [
            prop(
              'thresholds',
              thresholds([
                ['green', null],
                ['red', 1],
              ]),
            ),
          ]),
        ],
      }),
      barGauge('Miners by status', {
        h: 5,
        q: [
          {
            query: `SELECT last("status") AS "status" FROM "miner" WHERE ${F} AND $timeFilter AND ${LATEST} GROUP BY "tenant", "miner"`,
            table: true,
          },
        ],
        description:
          'Latest health status per miner, counted. Status is a field, so the grouping happens in Grafana.',
        transformations: [
          {
            id: 'groupBy',
            options: {
              fields: {
                status: { operation: 'groupby', aggregations: [] },
                miner: { operation: 'aggregate', aggregations: ['count'] },
              },
            },
          },
        ],
      }),
      row('Trends (resolution: $source)'),
      timeseries('Hashrate vs nominal', {
        unit: U.ghs,
        minInterval: '1m',
        q: [
          {
            query: perMinerSum({
              fields: { h: 'mean("hashrate_ghs")', n: 'mean("hashrate_nominal_ghs")' },
              outer: `sum("h") AS "hashrate", sum("n") AS "nominal"`,
              where: F,
            }),
          },
        ],
        overrides: [byName('nominal', [DASHED, prop('custom.fillOpacity', 0)])],
      }),
      timeseries('Power', {
        unit: U.w,
        minInterval: '1m',
        q: [
          {
            query: perMinerSum({ fields: { p: 'mean("power_w")' }, outer: `sum("p") AS "power"`, where: F }),
          },
        ],
      }),
      timeseries('Efficiency', {
        unit: U.jth,
        w: 8,
        minInterval: '1m',
        q: [
          {
            query: perMinerSum({
              fields: { h: 'mean("hashrate_ghs")', p: 'mean("power_w")' },
              outer: `sum("p") / sum("h") * 1000 AS "efficiency"`,
              where: F,
            }),
          },
        ],
      }),
      timeseries('Miners reachable', {
        unit: U.n,
        w: 8,
        stack: true,
        minInterval: '1m',
        description: 'Average number of miners reached / not reached by the polls in each interval.',
        q: [
          {
            query: perMinerSum({
              fields: { up: 'mean("up")' },
              outer: `sum("up") AS "reachable", count("up") - sum("up") AS "unreachable"`,
              where: F,
            }),
          },
        ],
        overrides: [
          byName('unreachable', [prop('color', { mode: 'fixed', fixedColor: 'red' })]),
          byName('reachable', [prop('color', { mode: 'fixed', fixedColor: 'green' })]),
        ],
      }),
      timeseries('Availability by site', {
        unit: U.pct,
        w: 8,
        min: 0,
        max: 100,
        description: 'Share of polls that reached the miners (mean of up).',
        q: [
          {
            query: `SELECT mean("up") * 100 FROM "$source" WHERE ${F} AND $timeFilter GROUP BY time($__interval), "site" fill(none)`,
            alias: '$tag_site',
          },
        ],
      }),
      row('Breakdown'),
      timeseries('Hashrate by site', {
        unit: U.ghs,
        stack: true,
        minInterval: '1m',
        q: [
          {
            query: perMinerSum({
              fields: { h: 'mean("hashrate_ghs")' },
              outer: 'sum("h")',
              where: F,
              by: 'site',
            }),
            alias: '$tag_site',
          },
        ],
      }),
      timeseries('Hashrate by model', {
        unit: U.ghs,
        stack: true,
        minInterval: '1m',
        q: [
          {
            query: perMinerSum({
              fields: { h: 'mean("hashrate_ghs")' },
              outer: 'sum("h")',
              where: F,
              by: 'model',
            }),
            alias: '$tag_model',
          },
        ],
      }),
      siteOrModel('site'),
      siteOrModel('model'),
      row('Attention'),
      table('Top underperformers', {
        description:
          'Lowest hashrate relative to nominal over the range, among miners reached in more than half of the polls (miners that are simply offline show up under Reachable).',
        q: [
          {
            query: `SELECT bottom("pct", "miner", 10) AS "pct_nominal", "site", "model", "hashrate", "nominal", "availability" FROM (
                SELECT mean("hashrate_ghs") / mean("hashrate_nominal_ghs") * 100 AS "pct", mean("hashrate_ghs") AS "hashrate",
                  mean("hashrate_nominal_ghs") AS "nominal", mean("up") * 100 AS "availability"
                FROM "$source" WHERE ${F} AND $timeFilter GROUP BY "tenant", "site", "model", "miner"
              ) WHERE "availability" > 50 AND $timeFilter`,
          },
        ],
        columns: [
          col('miner', 'Miner', undefined, MINER_LINK),
          col('site', 'Site'),
          col('model', 'Model'),
          col(
            'pct_nominal',
            '% nominal',
            U.pct,
            prop('decimals', 1),
            prop('thresholds', thresholds(HASH_PCT)),
            prop('custom.cellOptions', { type: 'color-background' }),
          ),
          col('hashrate', 'Hashrate', U.ghs),
          col('nominal', 'Nominal', U.ghs),
          col('availability', 'Availability', U.pct, prop('decimals', 0)),
        ],
        sortBy: { displayName: '% nominal', desc: false },
      }),
      table('Hottest miners', {
        description: 'Highest chip temperature over the range, with the board maximum and the slowest fan.',
        q: [
          {
            query: `SELECT top("chip", "miner", 10) AS "chip_max", "site", "model", "board_max", "fan_min" FROM (
                SELECT max("temp_chip_max_c") AS "chip", max("temp_board_max_c") AS "board_max", min("fan_rpm_min") AS "fan_min"
                FROM "$source" WHERE ${F} AND $timeFilter GROUP BY "tenant", "site", "model", "miner"
              ) WHERE $timeFilter`,
          },
        ],
        columns: [
          col('miner', 'Miner', undefined, MINER_LINK),
          col('site', 'Site'),
          col('model', 'Model'),
          col(
            'chip_max',
            'Chip max',
            U.c,
            prop('thresholds', thresholds(CHIP_TEMP)),
            prop('custom.cellOptions', { type: 'color-background' }),
          ),
          col('board_max', 'Board max', U.c),
          col('fan_min', 'Slowest fan', U.rpm),
        ],
        sortBy: { displayName: 'Chip max', desc: true },
      }),
    ],
  });
}

// ---- Miner detail ---------------------------------------------------------------------------

function minerDetail(): Obj {
  const M = `${TENANT} AND ${MINER}`;
  /** alias -> expression; measured values read 0 while the miner is unreachable (see fresh) */
  const last = (fields: Record<string, string>): string =>
    `SELECT ${Object.entries(fields)
      .map(([alias, expr]) => `${expr} AS "${alias}"`)
      .join(', ')} FROM "miner" WHERE ${M} AND $timeFilter`;
  const perBoard = (select: string): string =>
    `SELECT ${select} FROM "hashboard" WHERE ${M} AND $timeFilter GROUP BY time($__interval), "board" fill(none)`;
  const textStat = (title: string, field: string, w = 3): Spec =>
    stat(title, {
      w,
      q: [{ query: last({ [field]: lastOf(field) }), table: true }],
      fields: `/^${field}$/`,
      mappings: [STATUS_COLORS],
    });

  return dashboard({
    uid: UID.miner,
    title: 'bos-fleet · Miner detail',
    description: 'One miner: hashboards, temperatures, fans, power, tuner, pools and its events.',
    variables: [
      tagVariable('tenant', 'Tenant', []),
      tagVariable('site', 'Site', [TENANT]),
      tagVariable('model', 'Model', [TENANT, SITE]),
      tagVariable('miner', 'Miner', [TENANT, SITE, MODEL], { multi: false }),
      SOURCE_VARIABLE,
    ],
    annotations: [annotation('Events', 'orange', M, 'kind,severity')],
    links: rangeLinks(UID.miner, 'miner-detail', ['tenant', 'miner']),
    panels: [
      row('Now'),
      textStat('Status', 'status'),
      textStat('Tuner', 'tuner_state'),
      textStat('Firmware', 'firmware', 4),
      stat('Uptime', { w: 2, unit: U.s, q: [{ query: last({ uptime: fresh('uptime_s') }) }] }),
      stat('Hashrate', {
        w: 3,
        unit: U.ghs,
        q: [{ query: last({ hashrate: fresh('hashrate_ghs'), nominal: lastOf('hashrate_nominal_ghs') }) }],
      }),
      stat('Power', {
        w: 3,
        unit: U.w,
        q: [{ query: last({ power: fresh('power_w'), target: lastOf('power_target_w') }) }],
      }),
      stat('Efficiency', {
        w: 2,
        unit: U.jth,
        decimals: 1,
        q: [{ query: last({ efficiency: lastOf('efficiency_jth') }) }],
      }),
      stat('Boards hashing', {
        w: 4,
        q: [{ query: last({ hashing: fresh('boards_hashing'), total: lastOf('boards_total') }) }],
      }),
      stateTimeline('Status and tuner', {
        q: [
          {
            query: `SELECT last("status") AS "status", last("tuner_state") AS "tuner" FROM "miner" WHERE ${M} AND $timeFilter GROUP BY time($__interval) fill(none)`,
          },
        ],
      }),
      row('Performance (resolution: $source)'),
      timeseries('Hashrate vs nominal', {
        unit: U.ghs,
        q: [
          {
            query: `SELECT mean("hashrate_ghs") AS "hashrate", mean("hashrate_nominal_ghs") AS "nominal" FROM "$source" WHERE ${M} AND $timeFilter GROUP BY time($__interval) fill(none)`,
          },
        ],
        overrides: [byName('nominal', [DASHED, prop('custom.fillOpacity', 0)])],
      }),
      timeseries('Power and power target', {
        unit: U.w,
        description: 'The power target is only in the raw series; it is read from there at every resolution.',
        q: [
          {
            query: `SELECT mean("power_w") AS "power" FROM "$source" WHERE ${M} AND $timeFilter GROUP BY time($__interval) fill(none)`,
          },
          {
            query: `SELECT mean("power_target_w") AS "target" FROM "miner" WHERE ${M} AND $timeFilter GROUP BY time($__interval) fill(none)`,
          },
        ],
        overrides: [byName('target', [DASHED, prop('custom.fillOpacity', 0)])],
      }),
      timeseries('Efficiency', {
        unit: U.jth,
        q: [
          {
            query: `SELECT mean("efficiency_jth") AS "efficiency" FROM "$source" WHERE ${M} AND $timeFilter GROUP BY time($__interval) fill(none)`,
          },
        ],
      }),
      timeseries('Hottest chip and board', {
        unit: U.c,
        q: [
          {
            query: `SELECT max("temp_chip_max_c") AS "chip", max("temp_board_max_c") AS "board" FROM "$source" WHERE ${M} AND $timeFilter GROUP BY time($__interval) fill(none)`,
          },
        ],
      }),
      row('Hashboards'),
      timeseries('Hashrate per board', {
        unit: U.ghs,
        q: [
          {
            query: perBoard(`mean("hashrate_ghs") AS "hashrate", mean("hashrate_nominal_ghs") AS "nominal"`),
            alias: 'board $tag_board $col',
          },
        ],
        overrides: [byRegex('/nominal/', [DASHED, prop('custom.fillOpacity', 0)])],
      }),
      timeseries('Chip temperature per board', {
        unit: U.c,
        q: [{ query: perBoard(`max("temp_chip_c") AS "chip"`), alias: 'board $tag_board' }],
      }),
      timeseries('Board, inlet and outlet temperature', {
        unit: U.c,
        q: [
          {
            query: perBoard(
              `max("temp_board_c") AS "board", mean("temp_inlet_c") AS "inlet", mean("temp_outlet_c") AS "outlet"`,
            ),
            alias: 'board $tag_board $col',
          },
        ],
      }),
      timeseries('Voltage and frequency', {
        unit: U.v,
        q: [
          {
            query: perBoard(`mean("voltage_v") AS "voltage", mean("frequency_mhz") AS "frequency"`),
            alias: 'board $tag_board $col',
          },
        ],
        overrides: [byRegex('/frequency/', [prop('unit', U.mhz), prop('custom.axisPlacement', 'right')])],
      }),
      row('Fans'),
      timeseries('Fan speed', {
        unit: U.rpm,
        q: [
          {
            query: `SELECT mean("rpm") FROM "fan" WHERE ${M} AND $timeFilter GROUP BY time($__interval), "fan" fill(none)`,
            alias: 'fan $tag_fan',
          },
        ],
      }),
      timeseries('Fan duty cycle', {
        unit: U.ratio,
        min: 0,
        max: 1,
        q: [
          {
            query: `SELECT mean("pwm_ratio") FROM "fan" WHERE ${M} AND $timeFilter GROUP BY time($__interval), "fan" fill(none)`,
            alias: 'fan $tag_fan',
          },
        ],
      }),
      row('Pools'),
      timeseries('Shares per minute by pool', {
        unit: U.n,
        axisLabel: 'shares / min',
        description:
          'Rate of the pool share counters; counter resets (reboots) are skipped, not counted as negative.',
        q: [
          {
            query: `SELECT non_negative_derivative(max("accepted"), 1m) AS "accepted", non_negative_derivative(max("rejected"), 1m) AS "rejected",
                non_negative_derivative(max("stale"), 1m) AS "stale"
              FROM "pool" WHERE ${M} AND $timeFilter GROUP BY time($__interval), "pool" fill(none)`,
            alias: '$tag_pool $col',
          },
        ],
      }),
      table('Pools now', {
        h: 8,
        q: [
          {
            query: `SELECT last("active") AS "active", last("alive") AS "alive", last("accepted") AS "accepted", last("rejected") AS "rejected",
                last("stale") AS "stale" FROM "pool" WHERE ${M} AND $timeFilter GROUP BY "group", "pool"`,
          },
        ],
        columns: [
          col('group', 'Group'),
          col('pool', 'Pool'),
          col(
            'active',
            'Active',
            undefined,
            prop('mappings', [BOOL_MAPPING]),
            prop('custom.cellOptions', { type: 'color-text' }),
          ),
          col(
            'alive',
            'Alive',
            undefined,
            prop('mappings', [BOOL_MAPPING]),
            prop('custom.cellOptions', { type: 'color-text' }),
          ),
          col('accepted', 'Accepted', U.n),
          col('rejected', 'Rejected', U.n),
          col('stale', 'Stale', U.n),
        ],
      }),
      row('Events'),
      table('Events', {
        w: 24,
        h: 8,
        q: [
          {
            query: `SELECT "severity", "kind", "message", "actor", "result" FROM "event" WHERE ${M} AND $timeFilter ORDER BY time DESC LIMIT 500`,
          },
        ],
        showTime: true,
        columns: [
          col(
            'severity',
            'Severity',
            undefined,
            prop('mappings', [
              {
                type: 'value',
                options: {
                  warning: { color: 'orange', index: 0 },
                  critical: { color: 'red', index: 1 },
                  info: { color: 'blue', index: 2 },
                },
              },
            ]),
            prop('custom.cellOptions', { type: 'color-text' }),
          ),
          col('kind', 'Kind'),
          col('message', 'Message'),
          col('actor', 'Actor'),
          col('result', 'Result'),
        ],
      }),
    ],
  });
}

// ---- Sites & pools -----------------------------------------------------------------------------

function sitesPools(): Obj {
  const S = `${TENANT} AND ${SITE}`;
  const bySite = (fields: Record<string, string>, outer: string): string =>
    perMinerSum({ fields, outer, where: S, by: 'site' });
  /**
   * Per miner and pool: share counter rates (per minute) or increments per bucket, summed per
   * pool. `sharesOnly` drops buckets without any share (idle backup pools), which would
   * otherwise read as 0 % acceptance.
   */
  const shareRates = (
    fn: 'non_negative_derivative' | 'non_negative_difference',
    outer: string,
    outerBy: string,
    sharesOnly = false,
  ): string => {
    const arg = fn === 'non_negative_derivative' ? ', 1m' : '';
    const active = sharesOnly ? '("a" > 0 OR "r" > 0 OR "s" > 0) AND ' : '';
    return oneLine(`SELECT ${outer} FROM (
        SELECT ${fn}(max("accepted")${arg}) AS "a", ${fn}(max("rejected")${arg}) AS "r", ${fn}(max("stale")${arg}) AS "s"
        FROM "pool" WHERE ${S} AND $timeFilter GROUP BY time($__interval), "tenant", "miner", "pool" fill(none)
      ) WHERE ${active}$timeFilter GROUP BY ${outerBy}`);
  };
  const ACCEPTANCE = `sum("a") / (sum("a") + sum("r") + sum("s")) * 100`;

  return dashboard({
    uid: UID.sites,
    title: 'bos-fleet · Sites & pools',
    description: 'Per-site totals and availability; pool health and share acceptance.',
    variables: [tagVariable('tenant', 'Tenant', []), tagVariable('site', 'Site', [TENANT]), SOURCE_VARIABLE],
    annotations: fleetEventAnnotations(S),
    links: rangeLinks(UID.sites, 'sites-and-pools', ['tenant', 'site']),
    panels: [
      row('Sites'),
      table('Sites', {
        w: 24,
        h: 7,
        description:
          'Latest poll of each miner, plus availability (mean of up) over the whole range at the chosen resolution.',
        q: [
          {
            query: latestPerMiner({
              fields: {
                h: fresh('hashrate_ghs'),
                n: fresh('hashrate_nominal_ghs'),
                p: fresh('power_w'),
                up: lastOf('up'),
                bh: fresh('boards_hashing'),
                bt: fresh('boards_total'),
              },
              outer: `count("up") AS "miners", sum("up") AS "reachable", sum("h") AS "hashrate", sum("h") / sum("n") * 100 AS "pct_nominal",
                sum("p") AS "power", sum("p") / sum("h") * 1000 AS "efficiency", sum("bh") AS "boards_hashing", sum("bt") AS "boards_total"`,
              where: S,
              by: ['site'],
            }),
          },
          {
            query: `SELECT mean("up") * 100 AS "availability" FROM "$source" WHERE ${S} AND $timeFilter GROUP BY "site"`,
          },
        ],
        joinOn: 'site',
        columns: [
          col('site', 'Site'),
          col('miners', 'Miners'),
          col('reachable', 'Reachable'),
          col(
            'availability',
            'Availability',
            U.pct,
            prop('decimals', 1),
            prop(
              'thresholds',
              thresholds([
                ['red', null],
                ['orange', 95],
                ['green', 99],
              ]),
            ),
            prop('custom.cellOptions', { type: 'color-text' }),
          ),
          col('hashrate', 'Hashrate', U.ghs),
          col(
            'pct_nominal',
            '% nominal',
            U.pct,
            prop('decimals', 1),
            prop('thresholds', thresholds(HASH_PCT)),
            prop('custom.cellOptions', { type: 'color-text' }),
          ),
          col('power', 'Power', U.w),
          col('efficiency', 'Efficiency', U.jth, prop('decimals', 1)),
          col('boards_hashing', 'Boards hashing'),
          col('boards_total', 'Boards total'),
        ],
        sortBy: { displayName: 'Site', desc: false },
      }),
      timeseries('Hashrate by site', {
        unit: U.ghs,
        stack: true,
        minInterval: '1m',
        q: [{ query: bySite({ h: 'mean("hashrate_ghs")' }, 'sum("h")'), alias: '$tag_site' }],
      }),
      timeseries('% of nominal by site', {
        unit: U.pct,
        minInterval: '1m',
        q: [
          {
            query: bySite(
              { h: 'mean("hashrate_ghs")', n: 'mean("hashrate_nominal_ghs")' },
              'sum("h") / sum("n") * 100',
            ),
            alias: '$tag_site',
          },
        ],
      }),
      timeseries('Power by site', {
        unit: U.w,
        stack: true,
        minInterval: '1m',
        q: [{ query: bySite({ p: 'mean("power_w")' }, 'sum("p")'), alias: '$tag_site' }],
      }),
      timeseries('Efficiency by site', {
        unit: U.jth,
        minInterval: '1m',
        q: [
          {
            query: bySite({ h: 'mean("hashrate_ghs")', p: 'mean("power_w")' }, 'sum("p") / sum("h") * 1000'),
            alias: '$tag_site',
          },
        ],
      }),
      timeseries('Availability by site', {
        unit: U.pct,
        w: 24,
        min: 0,
        max: 100,
        description: 'Share of polls that reached the miners (mean of up).',
        q: [
          {
            query: `SELECT mean("up") * 100 FROM "$source" WHERE ${S} AND $timeFilter GROUP BY time($__interval), "site" fill(none)`,
            alias: '$tag_site',
          },
        ],
      }),
      row('Pools'),
      table('Pools', {
        w: 24,
        h: 7,
        description: 'Latest state per pool URL across miners, and share acceptance over the range.',
        q: [
          {
            query: latestPerMiner({
              fields: { alive: lastOf('alive'), active: lastOf('active') },
              outer: `count("alive") AS "miners", sum("active") AS "active_on", sum("alive") AS "alive_on"`,
              where: S,
              by: ['pool'],
              innerBy: ['group', 'pool'],
              measurement: 'pool',
            }),
          },
          {
            query: shareRates(
              'non_negative_difference',
              `sum("a") AS "accepted", sum("r") AS "rejected", sum("s") AS "stale", ${ACCEPTANCE} AS "acceptance"`,
              '"pool"',
              true,
            ),
          },
        ],
        joinOn: 'pool',
        columns: [
          col('pool', 'Pool'),
          col('miners', 'Miners'),
          col('active_on', 'Active on'),
          col('alive_on', 'Alive on'),
          col('accepted', 'Accepted', U.n),
          col('rejected', 'Rejected', U.n),
          col('stale', 'Stale', U.n),
          col(
            'acceptance',
            'Acceptance',
            U.pct,
            prop('decimals', 2),
            prop(
              'thresholds',
              thresholds([
                ['red', null],
                ['orange', 98],
                ['green', 99.5],
              ]),
            ),
            prop('custom.cellOptions', { type: 'color-text' }),
          ),
        ],
        sortBy: { displayName: 'Miners', desc: true },
      }),
      timeseries('Share acceptance by pool', {
        unit: U.pct,
        minInterval: '1m',
        description: 'accepted / (accepted + rejected + stale) of the share counters, per pool URL.',
        q: [
          {
            query: shareRates(
              'non_negative_derivative',
              ACCEPTANCE,
              'time($__interval), "pool" fill(none)',
              true,
            ),
            alias: '$tag_pool',
          },
        ],
      }),
      timeseries('Shares per minute by pool', {
        unit: U.n,
        axisLabel: 'shares / min',
        minInterval: '1m',
        q: [
          {
            query: shareRates(
              'non_negative_derivative',
              `sum("a") AS "accepted", sum("r") AS "rejected", sum("s") AS "stale"`,
              'time($__interval), "pool" fill(none)',
            ),
            alias: '$tag_pool $col',
          },
        ],
      }),
      timeseries('Miners without an alive pool', {
        unit: U.n,
        w: 24,
        minInterval: '1m',
        description: 'Miners none of whose pools reported alive in the interval: they are not earning.',
        q: [
          {
            query: oneLine(`SELECT count("alive") - sum("alive") FROM (
                SELECT max("alive") AS "alive" FROM "pool" WHERE ${S} AND $timeFilter
                GROUP BY time($__interval), "tenant", "site", "miner" fill(none)
              ) WHERE $timeFilter GROUP BY time($__interval), "site" fill(none)`),
            alias: '$tag_site',
          },
        ],
      }),
    ],
  });
}

/** file name -> dashboard */
export function buildDashboards(): Record<string, Obj> {
  return {
    'fleet-overview.json': fleetOverview(),
    'miner-detail.json': minerDetail(),
    'sites-pools.json': sitesPools(),
  };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  // formatted like `npm run format` would, so the files stay stable under prettier
  const prettier = await import('prettier');
  for (const [file, dash] of Object.entries(buildDashboards())) {
    const path = join(DASHBOARDS_DIR, file);
    const options = { ...(await prettier.resolveConfig(path)), filepath: path };
    writeFileSync(path, await prettier.format(JSON.stringify(dash), options));
    console.log(`wrote ${path}`);
  }
}
