import type { FastifyInstance } from 'fastify';
import { HEALTH_STATUSES } from '../../core/samples.ts';
import type { FleetQuery } from '../../services/query/fleet-query.ts';
import { MinerListQuery, type MinerListItem, type MinerSortKey } from '../../api/schemas/miners.ts';
import { html, type Html } from '../html.ts';
import { age, duration, num, REASON_LABELS, STATUS_LABELS } from '../format.ts';
import { canControl, csrfField, page } from '../layout.ts';
import { BATCH_ACTIONS } from './actions.ts';
import { ServerTiming } from '../server-timing.ts';


/** Sortable columns: header text and the list service's sort key. */
const COLUMNS: { label: string; sort: MinerSortKey; num?: boolean }[] = [
  { label: 'Miner', sort: 'id' },
  { label: 'Site', sort: 'site' },
  { label: 'Model', sort: 'model' },
  { label: 'Status', sort: 'status' },
  { label: 'Hashrate (TH/s)', sort: 'hashrate', num: true },
  { label: '% expected', sort: 'pct_nominal', num: true },
  { label: 'Power (W)', sort: 'power', num: true },
  { label: 'J/TH', sort: 'efficiency', num: true },
  { label: 'Max chip °C', sort: 'temperature', num: true },
  { label: 'Fans (min RPM)', sort: 'fans', num: true },
  { label: 'Boards', sort: 'boards', num: true },
  { label: 'Uptime', sort: 'uptime', num: true },
  { label: 'Pool', sort: 'pool' },
  { label: 'Firmware', sort: 'firmware' },
  { label: 'Last seen', sort: 'last_seen' },
];

/** Text columns read A→Z first; numbers largest first. */
const ascendingFirst = (sort: MinerSortKey): boolean => ['id', 'site', 'model', 'status', 'firmware', 'pool'].includes(sort);

/** The query string without empty fields (an empty filter box means no filter). */
function cleanQuery(query: unknown): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [k, v] of Object.entries((query ?? {}) as Record<string, unknown>)) {
    if (typeof v === 'string' && v.trim() !== '') out[k] = v.trim();
    else if (Array.isArray(v)) {
      const vs = v.filter((x): x is string => typeof x === 'string' && x.trim() !== '');
      if (vs.length > 0) out[k] = vs;
    }
  }
  return out;
}

function hrefWith(q: Record<string, string | string[]>, change: Record<string, string | undefined>): string {
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries({ ...q, ...change })) {
    if (v === undefined) continue;
    for (const x of Array.isArray(v) ? v : [v]) p.append(k, x);
  }
  const s = p.toString();
  return s ? `/miners?${s}` : '/miners';
}

export function registerMinersPage(app: FastifyInstance, fleetQuery: FleetQuery): void {
  app.get('/miners', async (req, reply) => {
    const timing = new ServerTiming();
    const session = req.consoleSession!;
    const caller = session.caller;
    const q = cleanQuery(req.query);
    const { cursor: _c, ...filters } = q;
    const parsed = MinerListQuery.safeParse(q);
    timing.mark('parse');
    const summary = await fleetQuery.summary(caller);
    let problem: string | null = null;
    let list = null;
    const order = parsed.success ? (parsed.data.order ?? (ascendingFirst(parsed.data.sort) ? 'asc' : 'desc')) : 'asc';
    if (parsed.success) list = await fleetQuery.listMiners(caller, { ...parsed.data, order });
    else problem = parsed.error.issues.map(i => `${i.path.join('.') || 'query'}: ${i.message}`).join('; ');
    timing.mark('query');
    const sort = parsed.success ? parsed.data.sort : 'id';
    const control = canControl(caller);
    const one = (k: string): string => (typeof q[k] === 'string' ? (q[k] as string) : '');

    const header = (c: (typeof COLUMNS)[number]): Html => {
      const active = sort === c.sort;
      const first = ascendingFirst(c.sort) ? 'asc' : 'desc';
      const nextOrder = active ? (order === 'asc' ? 'desc' : 'asc') : first;
      return html`<th scope="col"${c.num ? html` class="num"` : c.sort === 'id' ? html` class="pin"` : ''}${active ? html` aria-sort="${order === 'asc' ? 'ascending' : 'descending'}"` : ''}><a href="${hrefWith(filters, { sort: c.sort, order: nextOrder })}">${c.label}${active ? (order === 'asc' ? ' ▲' : ' ▼') : ''}</a></th>`;
    };

    // The query as the browser sent it: the script waits for the results of exactly this query.
    const search = req.url.includes('?') ? req.url.slice(req.url.indexOf('?')) : '';
    // data-swap: the parts console.js replaces when only the rows changed (the columns stay, so
    // the table keeps its fixed column widths and the browser does not measure every cell again)
    const results = html`<div id="miner-results" data-query="${search}">
<div data-swap="state"><input type="hidden" name="sort" value="${sort}" form="miner-filters"><input type="hidden" name="order" value="${order}" form="miner-filters"></div>
${problem ? html`<p class="error" role="alert">${problem}</p>` : ''}
${
  list
    ? html`<p class="asof" data-swap="count">${list.total} miners match · showing ${list.items.length} · as of ${age(summary.updated_at)}</p>
<form method="post" action="/miners/batch" id="batch">
${control ? html`${csrfField(session)}<div class="actions"><label>With the selected miners <select name="action">${BATCH_ACTIONS.map(a => html`<option value="${a}">${a.replace('_', ' ')}</option>`)}</select></label><button type="submit">Preview (dry run)</button></div>` : ''}
<div class="scroll" tabindex="0" role="region" aria-label="Table (scrolls sideways)"><table class="miners collapse" data-testid="miners">
<colgroup>${control ? html`<col class="c-select">` : ''}${COLUMNS.map(c => html`<col class="c-${c.sort}">`)}</colgroup>
<thead data-swap="head"><tr>${control ? html`<th scope="col" class="pin"><input type="checkbox" aria-label="Select all on this page" data-select-all="ids"></th>` : ''}${COLUMNS.map(header)}</tr></thead>
<tbody data-swap="rows">${list.items.map(m => row(m, control))}</tbody></table></div>
</form>
<nav class="pager" aria-label="Pages" data-swap="pager">${_c ? html`<a href="${hrefWith(filters, {})}">First page</a>` : ''}${list.next_cursor ? html`<a href="${hrefWith(filters, { cursor: list.next_cursor })}" rel="next">Next page</a>` : ''}</nav>`
    : ''
}</div>`;
    reply.type('text/html').header('vary', 'x-console-part');
    // Sorting, paging and filtering fetch only the results (console.js swaps them in place).
    if (req.headers['x-console-part'] === 'miner-results') {
      timing.mark('render');
      timing.send(reply);
      return results.text;
    }

    const body = html`
<form class="filters" method="get" action="/miners" role="search" aria-label="Filter miners" id="miner-filters" data-results="miner-results">
  <label>Search<input type="search" name="q" value="${one('q')}" placeholder="id, hostname or IP"></label>
  <label>Site<select name="site"><option value="">any</option>${summary.by_site.map(s => html`<option${one('site') === s.site ? html` selected` : ''}>${s.site}</option>`)}</select></label>
  <label>Model<select name="model"><option value="">any</option>${summary.by_model.map(m => html`<option${one('model') === m.model ? html` selected` : ''}>${m.model}</option>`)}</select></label>
  <label>Status<select name="status"><option value="">any</option>${HEALTH_STATUSES.map(s => html`<option value="${s}"${one('status') === s ? html` selected` : ''}>${STATUS_LABELS[s] ?? s}</option>`)}</select></label>
  <label>Label<input name="label" value="${one('label')}" placeholder="rack=r1" size="10"></label>
  <label>Firmware<input name="firmware" value="${one('firmware')}" size="10"></label>
  <button type="submit">Filter</button> <a href="/miners">Clear</a>
</form>
${results}`;
    const text = page('Miners', { session, path: '/miners' }, body, { wide: true }).text;
    timing.mark('render');
    timing.send(reply);
    return text;
  });
}

function row(m: MinerListItem, control: boolean): Html {
  const reasons = m.degraded_reasons.map(r => REASON_LABELS[r] ?? r).join(', ');
  return html`<tr>
${control ? html`<td class="pin"><input type="checkbox" name="ids" value="${m.id}" aria-label="Select ${m.id}"></td>` : ''}
<th scope="row" class="pin" data-label="Miner"><a href="/miners/${encodeURIComponent(m.id)}">${m.id}</a>${m.hostname ? html` <span class="muted">${m.hostname}</span>` : ''}</th>
<td data-label="Site">${m.site}</td><td data-label="Model">${m.model ?? '—'}</td>
<td data-label="Status"><span class="badge ${m.status}">${STATUS_LABELS[m.status] ?? m.status}</span>${reasons ? html` <span class="muted">${reasons}</span>` : ''}${m.stale && m.status !== 'offline' ? html` <span class="warn">stale</span>` : ''}</td>
<td class="num" data-label="Hashrate (TH/s)">${num(m.hashrate_ths)} <span class="muted">/ ${num(m.hashrate_nominal_ths)}</span></td>
<td class="num" data-label="% expected">${num(m.pct_nominal, 0)}</td>
<td class="num" data-label="Power (W)">${num(m.power_w, 0)}</td>
<td class="num" data-label="J/TH">${num(m.efficiency_jth)}</td>
<td class="num" data-label="Max chip °C">${num(m.temp_chip_max_c, 0)}</td>
<td class="num" data-label="Fans (min RPM)">${num(m.fan_rpm_min, 0)}</td>
<td class="num" data-label="Boards">${m.boards_hashing ?? '—'}/${m.boards_total ?? '—'}</td>
<td class="num" data-label="Uptime">${duration(m.uptime_s)}</td>
<td class="clip" data-label="Pool">${m.pool ? html`<span class="pool" title="${m.pool}">${m.pool.replace(/^stratum\+(tcp|ssl):\/\//, '')}</span>` : '—'}</td>
<td class="clip" data-label="Firmware"${m.firmware ? html` title="${m.firmware}"` : ''}>${m.firmware ?? '—'}</td>
<td data-label="Last seen">${age(m.last_seen)}</td></tr>`;
}
