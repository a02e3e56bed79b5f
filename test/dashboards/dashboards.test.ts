import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { buildDashboards, DASHBOARDS_DIR, SCHEMA_VERSION } from '../../dashboards/grafana/generate.ts';
import {
  expandAnnotationQueries,
  expandPanelQueries,
  expandVariableQueries,
  interpolate,
  panelsOf,
  readDashboards,
  type Dashboard,
} from '../../dashboards/grafana/panel-queries.ts';

const ROOT = join(import.meta.dirname, '../../dashboards');
const PROVISIONING = join(ROOT, 'grafana/provisioning');
const PROMETHEUS = join(ROOT, 'prometheus');

const files = readdirSync(DASHBOARDS_DIR).filter(f => f.endsWith('.json'));
const dashboards = readDashboards(DASHBOARDS_DIR);
const yamlFile = <T>(path: string): T => parseYaml(readFileSync(path, 'utf8')) as T;

/** InfluxQL that InfluxDB 3 does not have (stack-notes §1); INTEGRAL() is missing there too. */
const DENYLIST: [string, RegExp][] = [
  ['SLIMIT', /\bSLIMIT\b/i],
  ['SOFFSET', /\bSOFFSET\b/i],
  ['SAMPLE()', /\bSAMPLE\s*\(/i],
  ['HOLT_WINTERS', /\bHOLT_WINTERS/i],
  ['EXPONENTIAL_MOVING_AVERAGE', /EXPONENTIAL_MOVING_AVERAGE/i],
  ['DOUBLE_EXPONENTIAL', /DOUBLE_EXPONENTIAL/i],
  ['TRIPLE_EXPONENTIAL', /TRIPLE_EXPONENTIAL/i],
  ['CHANDE_MOMENTUM', /CHANDE_MOMENTUM/i],
  ['KAUFMANS', /KAUFMANS/i],
  ['RELATIVE_STRENGTH_INDEX', /RELATIVE_STRENGTH_INDEX/i],
  ['INTEGRAL()', /\bINTEGRAL\s*\(/i],
  ['SHOW DATABASES', /\bSHOW\s+DATABASES\b/i],
  ['SHOW SERIES', /\bSHOW\s+SERIES\b/i],
  ['INTO', /\bINTO\b/i],
];

interface RawQuery {
  where: string;
  query: string;
  rawQuery?: boolean;
  kind: 'panel' | 'variable' | 'annotation';
}

/** Every InfluxQL text in a dashboard, uninterpolated. */
function rawQueries(d: Dashboard): RawQuery[] {
  const out: RawQuery[] = [];
  for (const p of panelsOf(d)) {
    for (const t of p.targets ?? []) {
      out.push({
        where: `${d.uid} panel ${p.id} "${p.title}" ${t.refId}`,
        query: t.query ?? '',
        rawQuery: t.rawQuery,
        kind: 'panel',
      });
    }
  }
  for (const v of d.templating?.list ?? []) {
    if (v.type === 'query')
      out.push({ where: `${d.uid} variable ${v.name}`, query: String(v.query), kind: 'variable' });
  }
  for (const a of d.annotations?.list ?? []) {
    out.push({
      where: `${d.uid} annotation ${a.name}`,
      query: a.target?.query ?? a.query ?? '',
      rawQuery: a.target?.rawQuery,
      kind: 'annotation',
    });
  }
  return out;
}

/** Every `datasource` value anywhere in the JSON. */
function datasourceRefs(node: unknown, path = '$'): { path: string; ref: unknown }[] {
  if (Array.isArray(node)) return node.flatMap((n, i) => datasourceRefs(n, `${path}[${i}]`));
  if (node === null || typeof node !== 'object') return [];
  return Object.entries(node).flatMap(([k, v]) =>
    k === 'datasource' ? [{ path: `${path}.${k}`, ref: v }] : datasourceRefs(v, `${path}.${k}`),
  );
}

describe('Grafana provisioning', () => {
  const { datasources } = yamlFile<{ datasources: Record<string, unknown>[] }>(
    join(PROVISIONING, 'datasources/influxdb.yaml'),
  );

  it('provisions the InfluxQL datasource with dbName, POST and token auth from the environment', () => {
    const influx = datasources.find(d => d.uid === 'bosfleet-influx');
    expect(influx).toMatchObject({
      type: 'influxdb',
      access: 'proxy',
      jsonData: {
        version: 'InfluxQL',
        dbName: '${INFLUX_DB}',
        httpMode: 'POST',
        httpHeaderName1: 'Authorization',
      },
      secureJsonData: { httpHeaderValue1: 'Token ${INFLUX_TOKEN}' },
    });
  });

  it('provisions the Prometheus datasource', () => {
    expect(datasources.find(d => d.uid === 'bosfleet-prometheus')).toMatchObject({
      type: 'prometheus',
      access: 'proxy',
    });
  });

  it('loads the dashboards from /var/lib/grafana/dashboards into the bos-fleet folder', () => {
    const { providers } = yamlFile<{ providers: Record<string, unknown>[] }>(
      join(PROVISIONING, 'dashboards/bosfleet.yaml'),
    );
    expect(providers).toHaveLength(1);
    expect(providers[0]).toMatchObject({
      type: 'file',
      folder: 'bos-fleet',
      options: { path: '/var/lib/grafana/dashboards' },
    });
  });

  it('every datasource reference in every dashboard is {type, uid} of a provisioned datasource', () => {
    const provisioned = new Set(datasources.map(d => `${String(d.type)}/${String(d.uid)}`));
    const bad = dashboards.flatMap(d =>
      datasourceRefs(d, d.uid).filter(({ ref }) => {
        if (ref === null || typeof ref !== 'object') return true;
        const { type, uid } = ref as { type?: unknown; uid?: unknown };
        return Object.keys(ref).length !== 2 || !provisioned.has(`${String(type)}/${String(uid)}`);
      }),
    );
    expect(bad).toEqual([]);
    expect(dashboards.flatMap(d => datasourceRefs(d)).length).toBeGreaterThan(50);
  });
});

describe('Grafana dashboards', () => {
  it('are the three expected files, each parsing as JSON', () => {
    expect(files.sort()).toEqual(['fleet-overview.json', 'miner-detail.json', 'sites-pools.json']);
    for (const f of files)
      expect(() => JSON.parse(readFileSync(join(DASHBOARDS_DIR, f), 'utf8'))).not.toThrow();
  });

  it('match their generator (run `npx node dashboards/grafana/generate.ts` after editing it)', () => {
    const built = buildDashboards();
    expect(Object.keys(built).sort()).toEqual(files.sort());
    for (const [file, dash] of Object.entries(built)) {
      expect(JSON.parse(readFileSync(join(DASHBOARDS_DIR, file), 'utf8')), file).toEqual(
        JSON.parse(JSON.stringify(dash)),
      );
    }
  });

  it('have unique uids and a pinned Grafana 11/12 schema version', () => {
    const uids = dashboards.map(d => d.uid);
    expect(new Set(uids).size).toBe(uids.length);
    for (const d of dashboards) {
      expect(d.uid).toMatch(/^[A-Za-z0-9_-]{1,40}$/);
      expect((d as unknown as { schemaVersion: number }).schemaVersion).toBe(SCHEMA_VERSION);
    }
    expect(SCHEMA_VERSION).toBeGreaterThanOrEqual(39);
  });

  it('have unique panel ids per dashboard and unique refIds per panel', () => {
    for (const d of dashboards) {
      const ids = panelsOf(d).map(p => p.id);
      expect(
        ids.every(id => Number.isInteger(id)),
        d.uid,
      ).toBe(true);
      expect(new Set(ids).size, d.uid).toBe(ids.length);
      for (const p of panelsOf(d)) {
        const refIds = (p.targets ?? []).map(t => t.refId);
        expect(
          refIds.every(r => typeof r === 'string' && r.length > 0),
          `${d.uid} ${p.title}`,
        ).toBe(true);
        expect(new Set(refIds).size, `${d.uid} ${p.title}`).toBe(refIds.length);
      }
    }
  });

  it('lay panels out inside the 24-column grid without overlaps', () => {
    for (const d of dashboards) {
      const boxes = panelsOf(d).map(p => ({
        id: p.id,
        ...(p as { gridPos: { x: number; y: number; w: number; h: number } }).gridPos,
      }));
      for (const b of boxes) expect(b.x + b.w, `${d.uid} panel ${b.id}`).toBeLessThanOrEqual(24);
      for (const a of boxes) {
        for (const b of boxes) {
          const overlap =
            a.id !== b.id && a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h;
          expect(overlap, `${d.uid} panels ${a.id} and ${b.id} overlap`).toBe(false);
        }
      }
    }
  });

  it('have template variables tenant, site (and model, miner) from SHOW TAG VALUES, plus $source', () => {
    const names = Object.fromEntries(
      dashboards.map(d => [d.uid, (d.templating?.list ?? []).map(v => v.name)]),
    );
    expect(names).toEqual({
      'bosfleet-fleet-overview': ['tenant', 'site', 'model', 'source'],
      'bosfleet-miner-detail': ['tenant', 'site', 'model', 'miner', 'source'],
      'bosfleet-sites-pools': ['tenant', 'site', 'source'],
    });
    for (const d of dashboards) {
      for (const v of d.templating?.list ?? []) {
        if (v.type === 'query')
          expect(String(v.query)).toMatch(/^SHOW TAG VALUES FROM "miner" WITH KEY = "\w+"/);
      }
      const source = d.templating?.list?.find(v => v.name === 'source') as {
        query: string;
        current: { value: string };
      };
      expect(source.query).toBe('raw : miner, 1m rollup : miner_1m, 1h rollup : miner_1h');
      expect(source.current.value).toBe('miner_1m');
    }
  });

  it('use raw InfluxQL with $timeFilter in every panel and annotation query', () => {
    const bad = dashboards
      .flatMap(rawQueries)
      .filter(q => q.kind !== 'variable')
      .filter(q => q.rawQuery !== true || !q.query.includes('$timeFilter'));
    expect(bad.map(q => q.where)).toEqual([]);
  });

  it('use no InfluxQL that InfluxDB 3 lacks', () => {
    const hits = dashboards
      .flatMap(rawQueries)
      .flatMap(q => DENYLIST.filter(([, re]) => re.test(q.query)).map(([name]) => `${q.where}: ${name}`));
    expect(hits).toEqual([]);
  });

  it('use Grafana unit ids that exist', () => {
    const known = new Set([
      'GHs',
      'watt',
      'celsius',
      'percent',
      'percentunit',
      'rotrpm',
      'volt',
      's',
      'short',
      'none',
    ]);
    const units = dashboards.flatMap(d =>
      panelsOf(d).flatMap(p => {
        const fc = (
          p as {
            fieldConfig?: {
              defaults?: { unit?: string };
              overrides?: { properties: { id: string; value: unknown }[] }[];
            };
          }
        ).fieldConfig;
        return [
          fc?.defaults?.unit,
          ...(fc?.overrides ?? []).flatMap(o =>
            o.properties.filter(x => x.id === 'unit').map(x => x.value as string),
          ),
        ];
      }),
    );
    const unknown = units.filter(
      (u): u is string => typeof u === 'string' && !known.has(u) && !u.startsWith('suffix:'),
    );
    expect(unknown).toEqual([]);
  });

  it('reference only defined variables: every query interpolates completely', () => {
    for (const d of dashboards) {
      const vars = { miner: 'm-1' };
      const all = [
        ...expandPanelQueries(d, vars),
        ...expandVariableQueries(d, vars),
        ...expandAnnotationQueries(d, vars),
      ];
      expect(all.length).toBe(rawQueries(d).length);
      for (const q of all) expect(q.query, `${d.uid} ${q.title}`).not.toMatch(/\$\w|\$\{|\[\[/);
    }
  });
});

describe('expandPanelQueries', () => {
  const dash: Dashboard = {
    uid: 't',
    templating: {
      list: [
        { type: 'query', name: 'site', includeAll: true, allValue: '.*', current: { value: ['$__all'] } },
        { type: 'custom', name: 'source', current: { value: 'miner_1m' } },
        { type: 'query', name: 'miner' },
      ],
    },
    panels: [
      {
        id: 1,
        title: 'p',
        datasource: { type: 'influxdb', uid: 'x' },
        targets: [
          {
            refId: 'A',
            query:
              'SELECT mean("v") FROM "$source" WHERE "site" =~ /^$site$/ AND "miner" =~ /^${miner}$/ AND $timeFilter GROUP BY time($__interval)',
          },
          {
            refId: 'B',
            query:
              'SELECT last("v") FROM "[[source]]" WHERE time >= ${__to}ms - 15m AND $timeFilter LIMIT $__interval_ms',
          },
          { refId: 'C', query: 'SELECT 1', datasource: { type: 'prometheus', uid: 'p' } },
        ],
      },
    ],
  };

  it('substitutes $var, ${var}, [[var]], defaults and Grafana macros', () => {
    const [a, b, c] = expandPanelQueries(dash, { miner: 'm-1' }, { toMs: 1_000 });
    expect(a?.query).toBe(
      'SELECT mean("v") FROM "miner_1m" WHERE "site" =~ /^.*$/ AND "miner" =~ /^m-1$/ AND time > now() - 1h GROUP BY time(1m)',
    );
    expect(b?.query).toBe(
      'SELECT last("v") FROM "miner_1m" WHERE time >= 1000ms - 15m AND time > now() - 1h LIMIT 60000',
    );
    expect(c).toBeUndefined();
  });

  it('turns multi-value arrays into an escaped regex alternation', () => {
    const [a] = expandPanelQueries(
      dash,
      { miner: ['m.1', 'm/2'], site: ['north'], source: 'miner_1h' },
      { timeFilter: 'time > now() - 6h', interval: '1h' },
    );
    expect(a?.query).toBe(
      'SELECT mean("v") FROM "miner_1h" WHERE "site" =~ /^north$/ AND "miner" =~ /^(m\\.1|m\\/2)$/ AND time > now() - 6h GROUP BY time(1h)',
    );
  });

  it('refuses queries with variables it has no value for', () => {
    expect(() => expandPanelQueries(dash, {})).toThrow(/no value for \$miner/);
    expect(() => interpolate('SELECT "$nope"', {})).toThrow(/unknown variable \$nope/);
  });
});

describe('Prometheus rules', () => {
  interface Rule {
    alert?: string;
    record?: string;
    for?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
  }
  const { groups } = yamlFile<{ groups: { rules: Rule[] }[] }>(join(PROMETHEUS, 'alerts.yml'));
  const alerts = groups.flatMap(g => g.rules).filter(r => r.alert);
  const tests = yamlFile<{ tests: { alert_rule_test?: { alertname: string; exp_alerts?: unknown[] }[] }[] }>(
    join(PROMETHEUS, 'alerts.test.yml'),
  ).tests.flatMap(t => t.alert_rule_test ?? []);

  it('define the expected alerts, each with for, severity, summary and runbook', () => {
    expect([...new Set(alerts.map(a => a.alert))].sort()).toEqual(
      [
        'ApiDown',
        'ApiErrorRateHigh',
        'ApiLatencyHigh',
        'CollectionCycleLagging',
        'CurtailmentPlanNotExecuted',
        'CurtailmentRestorePending',
        'PriceFeedStale',
        'CollectorDown',
        'EfficiencyDegraded',
        'FleetHashrateBelowNominal',
        'HashboardsDown',
        'InfluxBufferFilling',
        'InfluxPointsDropped',
        'InfluxWriteFailures',
        'MinersOfflineHigh',
        'MinersOverheating',
        'MinersWithoutCollector',
        'PoolDead',
        'SiteHashrateBelowNominal',
      ].sort(),
    );
    for (const a of alerts) {
      expect(a.for, a.alert).toMatch(/^\d+[smh]$/);
      expect(['warning', 'critical'], a.alert).toContain(a.labels?.severity);
      expect(a.annotations?.summary, a.alert).toBeTruthy();
      expect(a.annotations?.runbook, a.alert).toBeTruthy();
    }
  });

  it('have a unit test where each alert fires and one where it does not', () => {
    for (const name of new Set(alerts.map(a => a.alert as string))) {
      const cases = tests.filter(t => t.alertname === name);
      expect(
        cases.some(t => (t.exp_alerts ?? []).length > 0),
        `${name} fires somewhere`,
      ).toBe(true);
      expect(
        cases.some(t => (t.exp_alerts ?? []).length === 0),
        `${name} stays quiet somewhere`,
      ).toBe(true);
    }
    // both severities of MinersOfflineHigh are exercised
    const severities = JSON.stringify(tests.filter(t => t.alertname === 'MinersOfflineHigh'));
    expect(severities).toContain('critical');
    expect(severities).toContain('warning');
  });

  it('pass promtool test rules (and check config / check rules)', () => {
    const run = (...args: string[]) =>
      spawnSync('promtool', args, { cwd: PROMETHEUS, encoding: 'utf8', timeout: 60_000 });
    const test = run('test', 'rules', 'alerts.test.yml');
    if (test.error)
      throw new Error(`promtool not runnable (apt-get install -y prometheus): ${test.error.message}`);
    expect(test.status, `${test.stdout}\n${test.stderr}`).toBe(0);
    expect(test.stdout).toContain('SUCCESS');
    const config = run('check', 'config', 'prometheus.yml');
    expect(config.status, `${config.stdout}\n${config.stderr}`).toBe(0);
    const rules = run('check', 'rules', 'alerts.yml');
    expect(rules.status, `${rules.stdout}\n${rules.stderr}`).toBe(0);
  });
});
