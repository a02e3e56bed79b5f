import type { FastifyInstance } from 'fastify';
import { FleetError } from '../../collector/errors.ts';
import type { ControlPlane } from '../../api/control/index.ts';
import { html } from '../html.ts';
import { duration } from '../format.ts';
import { page } from '../layout.ts';

const when = (ms: number | null): string => (ms === null ? '—' : new Date(ms).toISOString().replace('T', ' ').slice(0, 16) + ' UTC');

/** Curtailment schedules (read-only here; create and remove them through REST or MCP). */
export function registerSchedulesPage(app: FastifyInstance, plane: ControlPlane | undefined): void {
  app.get('/schedules', async (req, reply) => {
    const session = req.consoleSession!;
    if (!plane) throw new FleetError('unavailable', 'this API runs without the schedules service');
    const list = await plane.schedules.list(session.caller);
    const body = html`<p class="muted">Curtailment windows: what each schedule does to which miners, when it runs next and how its last windows went. Create or remove schedules with <code>POST /api/v1/schedules</code> or the MCP tools.</p>
${
  list.length === 0
    ? html`<p class="muted">No schedules.</p>`
    : html`<div class="scroll" tabindex="0" role="region" aria-label="Schedules"><table data-testid="schedules"><thead><tr><th scope="col">Name</th><th scope="col">Miners</th><th scope="col">Action</th><th scope="col">When</th><th scope="col">Next start</th><th scope="col">Next end</th><th scope="col">Last window</th><th scope="col">By</th></tr></thead>
<tbody>${list.map(s => {
        const last = s.recent_windows[0];
        return html`<tr><th scope="row">${s.name}${s.enabled ? '' : html` <span class="muted">(disabled)</span>`}</th>
<td><code>${JSON.stringify(s.selector)}</code></td>
<td>${s.action.type === 'pause' ? 'pause' : `power target ${s.action.watt} W`}</td>
<td><code>${s.cron}</code> ${s.timezone}${s.duration_ms !== null ? ` for ${duration(s.duration_ms / 1000)}` : s.end_cron ? html` until <code>${s.end_cron}</code>` : ''}</td>
<td>${when(s.next_start_ms)}</td><td>${when(s.next_end_ms)}</td>
<td>${last ? `${when(last.start_ms)}: ${last.miners} miners${last.late ? ', late' : ''}${last.note ? `, ${last.note}` : ''}` : '—'}</td>
<td>${s.created_by}</td></tr>`;
      })}</tbody></table></div>`
}`;
    reply.type('text/html');
    return page('Schedules', { session, path: '/schedules' }, body).text;
  });
}
