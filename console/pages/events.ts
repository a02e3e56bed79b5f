import type { FastifyInstance } from 'fastify';
import type { FleetQuery } from '../../services/query/fleet-query.ts';
import { EVENT_KINDS, EVENT_SEVERITIES, EventsQuery, type FleetEventItem } from '../../api/schemas/events.ts';
import { html, type Html } from '../html.ts';
import { age } from '../format.ts';
import { page } from '../layout.ts';

export function eventsTable(items: FleetEventItem[], withMiner = true): Html {
  if (items.length === 0) return html`<p class="muted">No events.</p>`;
  return html`<div class="scroll" tabindex="0" role="region" aria-label="Table (scrolls sideways)"><table data-testid="events" class="collapse"><thead><tr><th scope="col">When</th>${withMiner ? html`<th scope="col">Miner</th>` : ''}<th scope="col">Kind</th><th scope="col">Severity</th><th scope="col">What</th><th scope="col">Who</th><th scope="col">Result</th></tr></thead>
<tbody>${items.map(
    e => html`<tr><td data-label="When"><time datetime="${e.time}" title="${e.time}">${age(e.time)}</time></td>
${withMiner ? html`<td data-label="Miner">${e.miner ? html`<a href="/miners/${encodeURIComponent(e.miner)}">${e.miner}</a>` : '—'}</td>` : ''}
<td data-label="Kind">${e.kind}</td><td data-label="Severity"><span class="badge ${e.severity === 'critical' ? 'offline' : e.severity === 'warning' ? 'degraded' : 'online'}">${e.severity}</span></td>
<td data-label="What">${e.message}</td><td data-label="Who">${e.actor ?? '—'}</td><td data-label="Result">${e.result ?? '—'}</td></tr>`,
  )}</tbody></table></div>`;
}

function clean(query: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries((query ?? {}) as Record<string, unknown>)) if (typeof v === 'string' && v.trim() !== '') out[k] = v.trim();
  return out;
}

export function registerEventsPage(app: FastifyInstance, fleetQuery: FleetQuery): void {
  app.get('/events', async (req, reply) => {
    const session = req.consoleSession!;
    const q = clean(req.query);
    const parsed = EventsQuery.safeParse(q);
    const list = parsed.success ? await fleetQuery.events(session.caller, parsed.data) : null;
    const body = html`
<form class="filters" method="get" action="/events" role="search" aria-label="Filter events">
  <label>Miner<input name="miner" value="${q.miner ?? ''}" size="14"></label>
  <label>Kind<select name="kind"><option value="">any</option>${EVENT_KINDS.map(k => html`<option${q.kind === k ? html` selected` : ''}>${k}</option>`)}</select></label>
  <label>Severity<select name="severity"><option value="">any</option>${EVENT_SEVERITIES.map(k => html`<option${q.severity === k ? html` selected` : ''}>${k}</option>`)}</select></label>
  <label>From<input name="from" value="${q.from ?? ''}" placeholder="now-24h" size="10"></label>
  <button type="submit">Filter</button> <a href="/events">Clear</a>
</form>
${parsed.success ? '' : html`<p class="error" role="alert">${parsed.error.issues.map(i => `${i.path.join('.') || 'query'}: ${i.message}`).join('; ')}</p>`}
${list ? html`<p class="asof">${list.items.length} ${list.items.length === 1 ? 'event' : 'events'}${list.truncated ? ' (more exist: narrow the filter)' : ''}, newest first</p>${eventsTable(list.items)}` : ''}`;
    reply.type('text/html');
    return page('Events and audit', { session, path: '/events' }, body).text;
  });
}
