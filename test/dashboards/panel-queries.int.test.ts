import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { DASHBOARDS_DIR } from '../../dashboards/grafana/generate.ts';
import {
  expandAnnotationQueries,
  expandPanelQueries,
  expandVariableQueries,
  readDashboards,
  runPanelQueries,
  type QueryResult,
  type RunOptions,
  type Vars,
} from '../../dashboards/grafana/panel-queries.ts';
import { buildFixture, MINERS, TENANT, writeFixture } from './fleet-fixture.ts';

// Every panel, variable and annotation query of every dashboard, run against a real
// InfluxDB holding a small fleet (raw series + 1m/1h rollups): each must succeed and
// return data, for each $source resolution.
const influxUrl = inject('influxUrl');
const db = `bosfleet_dash_${Date.now()}`;

const admin = async (q: string): Promise<void> => {
  const res = await fetch(`${influxUrl}/query`, { method: 'POST', body: new URLSearchParams({ q }) });
  expect(res.status, q).toBe(200);
};

const problems = (results: QueryResult[]): string[] =>
  results
    .filter(r => r.error || r.rows === 0)
    .map(
      r => `${r.dashboard} ${r.kind} "${r.title}" ${r.refId ?? ''}: ${r.error ?? 'no data'}\n  ${r.query}`,
    );

const expectedCount = (vars: Vars): number =>
  readDashboards(DASHBOARDS_DIR).reduce(
    (n, d) =>
      n +
      expandPanelQueries(d, vars).length +
      expandVariableQueries(d, vars).length +
      expandAnnotationQueries(d, vars).length,
    0,
  );

describe('dashboard queries against InfluxDB', () => {
  beforeAll(async () => {
    await admin(`CREATE DATABASE ${db}`);
    await writeFixture(influxUrl, db, buildFixture());
  });

  afterAll(async () => {
    await admin(`DROP DATABASE ${db}`);
  });

  const cases: [string, Vars, RunOptions][] = [
    ['raw polls', { source: 'miner' }, {}],
    ['1m rollups', { source: 'miner_1m' }, {}],
    // 1h rollups exist only for complete hours, so look further back
    ['1h rollups', { source: 'miner_1h' }, { timeFilter: 'time > now() - 6h', interval: '1h' }],
  ];

  it.each(cases)('every query succeeds and returns data from %s', async (_name, source, opts) => {
    const vars: Vars = { tenant: [TENANT], miner: 'm-n2', ...source };
    const results = await runPanelQueries(influxUrl, db, DASHBOARDS_DIR, vars, opts);
    expect(problems(results)).toEqual([]);
    expect(results.length).toBe(expectedCount(vars));
    expect(new Set(results.map(r => r.kind))).toEqual(new Set(['panel', 'variable', 'annotation']));
  });

  it('filters by multi-value sites and models with spaces, and resolves the miner like Grafana does', async () => {
    const vars: Vars = {
      tenant: [TENANT],
      site: ['north', 'south'],
      model: ['Antminer S21', 'Antminer S19j Pro'],
      source: 'miner',
    };
    const results = await runPanelQueries(influxUrl, db, DASHBOARDS_DIR, vars);
    expect(problems(results)).toEqual([]);

    const variable = (uid: string, name: string): string[] =>
      results.find(r => r.dashboard === uid && r.kind === 'variable' && r.title === name)?.values ?? [];
    expect(variable('bosfleet-fleet-overview', 'site')).toEqual(['north', 'south']);
    expect(variable('bosfleet-fleet-overview', 'model')).toEqual([
      'Antminer S19 XP',
      'Antminer S19j Pro',
      'Antminer S21',
    ]);
    // no miner given: the first one of the selected models, as Grafana picks on load
    const miners = variable('bosfleet-miner-detail', 'miner');
    expect(miners).toEqual(MINERS.filter(m => m.model !== 'Antminer S19 XP').map(m => m.id));
    const detail = results.find(r => r.dashboard === 'bosfleet-miner-detail' && r.kind === 'panel');
    expect(detail?.query).toContain(`"miner" =~ /^${miners[0]}$/`);
  });

  it('reports a failing query instead of throwing', async () => {
    const results = await runPanelQueries(influxUrl, `${db}_missing`, DASHBOARDS_DIR, {
      tenant: [TENANT],
      miner: 'm-n2',
    });
    expect(results.length).toBeGreaterThan(0);
    expect(results.every(r => r.error !== undefined || r.rows === 0)).toBe(true);
  });
});
