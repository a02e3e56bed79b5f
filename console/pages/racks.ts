import type { FastifyInstance } from 'fastify';
import type { FleetQuery } from '../../services/query/fleet-query.ts';
import type { MinerListItem } from '../../api/schemas/miners.ts';
import { html, type Html } from '../html.ts';
import { age, num, REASON_LABELS, STATUS_LABELS } from '../format.ts';
import { page } from '../layout.ts';

const METRICS = { temp: 'max chip °C', pct: '% of expected hashrate', status: 'status' } as const;
type RackMetric = keyof typeof METRICS;
/** Most miners drawn (20 pages of the list service). */
const MAX_MINERS = 10_000;

/** A colour class for the chosen metric: the same five steps whatever the metric. */
function shade(m: MinerListItem, metric: RackMetric): { cls: string; text: string } {
  if (metric === 'status') return { cls: `st-${m.status}`, text: STATUS_LABELS[m.status] ?? m.status };
  if (m.status === 'offline') return { cls: 'st-offline', text: 'offline' };
  if (metric === 'temp') {
    const t = m.temp_chip_max_c;
    if (t === null) return { cls: 'lvl-none', text: 'no reading' };
    return { cls: t >= 95 ? 'lvl-4' : t >= 85 ? 'lvl-3' : t >= 75 ? 'lvl-2' : t >= 60 ? 'lvl-1' : 'lvl-0', text: `${num(t, 0)} °C` };
  }
  const p = m.pct_nominal;
  if (p === null) return { cls: 'lvl-none', text: 'no reading' };
  return { cls: p < 50 ? 'lvl-4' : p < 80 ? 'lvl-3' : p < 90 ? 'lvl-2' : p < 97 ? 'lvl-1' : 'lvl-0', text: `${num(p, 0)} %` };
}

const position = (m: MinerListItem): number => {
  const p = Number(m.labels.position ?? m.labels.pos ?? m.labels.slot);
  return Number.isFinite(p) ? p : Number.MAX_SAFE_INTEGER;
};

/**
 * Miners laid out by the inventory labels site / rack / position (miners without a rack label
 * go to "no rack"; without a position, in id order), coloured by one metric: the view to spot a
 * hot aisle or a dead row.
 */
export function registerRackMap(app: FastifyInstance, fleetQuery: FleetQuery): void {
  app.get('/racks', async (req, reply) => {
    const session = req.consoleSession!;
    const q = req.query as Record<string, string | undefined>;
    const metric: RackMetric = q.metric && q.metric in METRICS ? (q.metric as RackMetric) : 'temp';
    const site = q.site && q.site.trim() !== '' ? q.site.trim() : undefined;
    const summary = await fleetQuery.summary(session.caller);
    const miners: MinerListItem[] = [];
    let cursor: string | undefined;
    do {
      const pageOf = await fleetQuery.listMiners(session.caller, { site, limit: 500, cursor });
      miners.push(...pageOf.items);
      cursor = pageOf.next_cursor ?? undefined;
    } while (cursor && miners.length < MAX_MINERS);

    const bySite = new Map<string, Map<string, MinerListItem[]>>();
    for (const m of miners) {
      const racks = bySite.get(m.site) ?? new Map<string, MinerListItem[]>();
      bySite.set(m.site, racks);
      const rack = m.labels.rack ?? 'no rack';
      racks.set(rack, [...(racks.get(rack) ?? []), m]);
    }
    const sorted = <T>(m: Map<string, T>): [string, T][] => [...m].sort(([a], [b]) => a.localeCompare(b, 'en', { numeric: true }));

    const cell = (m: MinerListItem): Html => {
      const s = shade(m, metric);
      const why = m.degraded_reasons.map(r => REASON_LABELS[r] ?? r).join(', ');
      const label = `${m.id}: ${s.text}${why ? `, ${why}` : ''}`;
      return html`<li><a class="cell ${s.cls}" href="/miners/${encodeURIComponent(m.id)}" title="${label}" aria-label="${label}">${m.labels.position ?? ''}</a></li>`;
    };
    const body = html`
<form class="filters" method="get" action="/racks" aria-label="Rack map options">
  <label>Site<select name="site"><option value="">all</option>${summary.by_site.map(s => html`<option${site === s.site ? html` selected` : ''}>${s.site}</option>`)}</select></label>
  <label>Colour by<select name="metric">${Object.entries(METRICS).map(([k, v]) => html`<option value="${k}"${metric === k ? html` selected` : ''}>${v}</option>`)}</select></label>
  <button type="submit">Show</button>
</form>
<p class="asof">${miners.length} miners · as of ${age(summary.updated_at)}${miners.length >= MAX_MINERS ? ' · only the first 10,000 are drawn; pick a site' : ''}</p>
<p class="legend" aria-label="Legend">${
      metric === 'status'
        ? (['online', 'degraded', 'offline', 'paused', 'stopped'] as const).map(s => html`<span class="cell st-${s}"></span> ${STATUS_LABELS[s]} `)
        : metric === 'temp'
          ? html`<span class="cell lvl-0"></span> &lt; 60 °C <span class="cell lvl-1"></span> 60–75 <span class="cell lvl-2"></span> 75–85 <span class="cell lvl-3"></span> 85–95 <span class="cell lvl-4"></span> ≥ 95 <span class="cell st-offline"></span> offline`
          : html`<span class="cell lvl-0"></span> ≥ 97 % <span class="cell lvl-1"></span> 90–97 <span class="cell lvl-2"></span> 80–90 <span class="cell lvl-3"></span> 50–80 <span class="cell lvl-4"></span> &lt; 50 <span class="cell st-offline"></span> offline`
    }</p>
${sorted(bySite).map(
  ([siteName, racks]) => html`<section aria-labelledby="site-${siteName}"><h2 id="site-${siteName}">${siteName}</h2>
<div class="racks" data-testid="racks">${sorted(racks).map(
    ([rack, ms]) => html`<div class="rack"><h3>${rack}</h3><ul class="rack-cells" aria-label="Rack ${rack}">${[...ms]
      .sort((a, b) => position(a) - position(b) || a.id.localeCompare(b.id, 'en', { numeric: true }))
      .map(cell)}</ul></div>`,
  )}</div></section>`,
)}`;
    reply.type('text/html');
    return page('Rack map', { session, path: '/racks' }, body).text;
  });
}
