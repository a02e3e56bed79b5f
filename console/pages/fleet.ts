import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { FleetQuery } from '../../services/query/fleet-query.ts';
import type { MinerListItem } from '../../api/schemas/miners.ts';
import { html, type Html } from '../html.ts';
import { age, num, REASON_LABELS, withUnit } from '../format.ts';
import { page } from '../layout.ts';
import { AnswerCache } from '../answer-cache.ts';
import { CHART_FRESH_MS, fitChart, RANGES, rangeParam, rangePicker, type ChartData } from './ranges.ts';

const fleetSeriesUrl = (range: string): string => `/console/fleet-series.json?range=${range}`;

/** Most problem miners listed per kind; the table (filtered) has the rest. */
const PROBLEMS_PER_KIND = 100;
const STALE_SCAN = 500;

export function registerFleetPage(app: FastifyInstance, fleetQuery: FleetQuery): void {
  app.get('/', async (req, reply) => {
    const caller = req.consoleSession!.caller;
    const range = rangeParam(req.query);
    const [summary, degraded, offline, oldest] = await Promise.all([
      fleetQuery.summary(caller),
      fleetQuery.listMiners(caller, { status: 'degraded', sort: 'pct_nominal', order: 'asc', limit: PROBLEMS_PER_KIND }),
      fleetQuery.listMiners(caller, { status: 'offline', sort: 'last_seen', order: 'desc', limit: PROBLEMS_PER_KIND }),
      fleetQuery.listMiners(caller, { sort: 'last_seen', order: 'asc', limit: STALE_SCAN }),
    ]);
    const t = summary.totals;
    const reasons = new Map<string, number>();
    for (const m of degraded.items) for (const r of m.degraded_reasons) reasons.set(r, (reasons.get(r) ?? 0) + 1);
    const stale = oldest.items.filter(m => m.stale && m.status !== 'offline').length;
    const problems = [...degraded.items, ...offline.items];

    const tile = (label: string, value: number, href: string, cls: string, extra?: Html): Html =>
      html`<a class="tile ${cls}" href="${href}" data-testid="count-${cls}"><span class="n">${value}</span><span class="l">${label}</span>${extra ?? ''}</a>`;

    const body = html`
<p class="asof" data-testid="asof">${summary.stale ? html`<strong class="warn">Data is stale</strong> — ` : ''}as of <time datetime="${summary.updated_at ?? ''}">${age(summary.updated_at)}</time> · ${t.miners} miners</p>
<section aria-labelledby="status-h"><h2 id="status-h">Status</h2>
<div class="tiles">
  ${tile('hashing', t.by_status.online, '/miners?status=online', 'online')}
  ${tile('degraded', t.by_status.degraded, '/miners?status=degraded', 'degraded',
    html`<span class="reasons">${[...reasons].map(([r, n]) => html`<span>${n} ${REASON_LABELS[r] ?? r}</span>`)}</span>`)}
  ${tile('offline', t.by_status.offline, '/miners?status=offline', 'offline')}
  ${tile('paused / curtailed', t.by_status.paused + t.by_status.stopped, '/miners?status=paused', 'paused')}
  ${tile('stale data', stale, '/miners?sort=last_seen&order=asc', 'stale')}
</div></section>

<section aria-labelledby="problems-h"><h2 id="problems-h">Problems</h2>
${
  problems.length === 0
    ? html`<p class="ok" data-testid="no-problems">No problems: every miner is hashing.</p>`
    : html`<ul class="problems" data-testid="problems" tabindex="0" aria-label="Problem miners">${problems.map(problemItem)}</ul>
${degraded.truncated || offline.truncated ? html`<p class="muted">Showing the first ${PROBLEMS_PER_KIND} of each kind; <a href="/miners?status=degraded">all degraded</a>, <a href="/miners?status=offline">all offline</a>.</p>` : ''}`
}
</section>

<section aria-labelledby="rate-h"><h2 id="rate-h">Hashrate and power</h2>
<dl class="figures">
  <div><dt>Hashrate</dt><dd data-testid="hashrate">${withUnit(t.hashrate_ths, 'TH/s')} <span class="muted">of ${withUnit(t.hashrate_nominal_ths, 'TH/s')} expected (${withUnit(t.pct_nominal, '%', 0)})</span></dd></div>
  <div><dt>Power</dt><dd>${withUnit(t.power_kw, 'kW', 2)}</dd></div>
  <div><dt>Efficiency</dt><dd>${withUnit(t.efficiency_jth, 'J/TH')}</dd></div>
  <div><dt>Hashboards</dt><dd>${t.boards_hashing} of ${t.boards_total} hashing</dd></div>
</dl>
${rangePicker('/', range)}
<div class="chart" role="img" aria-label="Fleet hashrate, expected hashrate and power over the last ${range}" data-chart="${fleetSeriesUrl(range)}"></div>
</section>

<section aria-labelledby="sites-h"><h2 id="sites-h">Sites</h2>
<div class="scroll" tabindex="0" role="region" aria-label="Table (scrolls sideways)"><table>
<thead><tr><th scope="col">Site</th><th scope="col">Miners</th><th scope="col">Hashing</th><th scope="col">Degraded</th><th scope="col">Offline</th><th scope="col">Hashrate (TH/s)</th><th scope="col">% expected</th><th scope="col">Power (kW)</th><th scope="col">J/TH</th></tr></thead>
<tbody>${summary.by_site.map(
      s => html`<tr><th scope="row"><a href="/miners?site=${s.site}">${s.site}</a></th><td>${s.miners}</td><td>${s.by_status.online}</td><td>${s.by_status.degraded}</td><td>${s.by_status.offline}</td><td>${num(s.hashrate_ths)}</td><td>${num(s.pct_nominal, 0)}</td><td>${num(s.power_kw, 2)}</td><td>${num(s.efficiency_jth)}</td></tr>`,
    )}</tbody></table></div>
</section>`;
    reply.type('text/html');
    return page('Fleet', { session: req.consoleSession, path: '/' }, body, { charts: true, preload: [fleetSeriesUrl(range)] }).text;
  });

  const seriesQuery = z.object({ range: z.enum(RANGES).default('24h') });
  const charts = new AnswerCache<ChartData>({ freshMs: CHART_FRESH_MS, maxEntries: 256 });
  app.get('/console/fleet-series.json', async req => {
    const caller = req.consoleSession!.caller;
    const { range } = seriesQuery.parse(req.query);
    const from = `now-${range}`;
    return await charts.get(`${caller.tenant}\u0000${range}`, async () => {
    const [rate, nominal, power] = await Promise.all(
      (['hashrate_ths', 'hashrate_nominal_ths', 'power_kw'] as const).map(metric => fleetQuery.fleetSeries(caller, { metric, from })),
    );
    const pts = (s: typeof rate | undefined): { time: string; value: number | null }[] => s?.series[0]?.points ?? [];
    return fitChart({
      x: pts(rate).map(p => Date.parse(p.time) / 1000),
      series: [
        { label: 'Hashrate', unit: 'TH/s', scale: 'ths', values: pts(rate).map(p => p.value) },
        { label: 'Expected', unit: 'TH/s', scale: 'ths', values: pts(nominal).map(p => p.value), dash: true },
        { label: 'Power', unit: 'kW', scale: 'kw', values: pts(power).map(p => p.value) },
      ],
    });
    });
  });
}

function problemItem(m: MinerListItem): Html {
  const what =
    m.status === 'offline'
      ? ['offline']
      : m.degraded_reasons.map(r => REASON_LABELS[r] ?? r);
  return html`<li class="${m.status}"><a href="/miners/${encodeURIComponent(m.id)}">${m.id}</a>
<span class="badge ${m.status}">${what.join(', ')}</span>
<span class="muted">${m.site}${m.hostname ? ` · ${m.hostname}` : ''} · ${m.status === 'offline' ? `last seen ${age(m.last_seen)}` : `${num(m.pct_nominal, 0)} % of expected, ${withUnit(m.temp_chip_max_c, '°C', 0)}`}</span></li>`;
}
