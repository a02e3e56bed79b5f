import type { FastifyInstance } from 'fastify';
import { FleetError } from '../../core/errors.ts';
import type { ControlPlane } from '../../services/control/index.ts';
import { field } from '../auth.ts';
import { html, type Html } from '../html.ts';
import { duration } from '../format.ts';
import { canControl, csrfField, page } from '../layout.ts';
import type { ConsoleSession } from '../sessions.ts';

const when = (ms: number | null): string => (ms === null ? '—' : new Date(ms).toISOString().replace('T', ' ').slice(0, 16) + ' UTC');

/** The create form; its fields map onto the schedule service's input (which checks them). */
function createForm(session: ConsoleSession): Html {
  return html`<form method="post" action="/schedules" class="panel filters" data-testid="schedule-form">${csrfField(session)}<fieldset><legend>New schedule</legend>
<label>Name<input name="name" required size="16"></label>
<label>Site (empty: whole fleet)<input name="site" size="12"></label>
<label>Starts (cron)<input name="cron" required size="14" placeholder="0 17 * * 1-5"></label>
<label>Time zone<input name="timezone" size="12" value="UTC"></label>
<label>For (minutes)<input name="minutes" required inputmode="numeric" size="5" value="60"></label>
<label>Action<select name="action"><option value="pause">pause</option><option value="power_target">power target</option></select></label>
<label>Watt (power target)<input name="watt" inputmode="numeric" size="6"></label>
<button type="submit">Create schedule</button></fieldset></form>`;
}

/** Curtailment schedules: listed for everyone; operators create and remove them here too. */
export function registerSchedulesPage(app: FastifyInstance, plane: ControlPlane | undefined): void {
  app.get('/schedules', async (req, reply) => {
    const session = req.consoleSession!;
    if (!plane) throw new FleetError('unavailable', 'this API runs without the schedules service');
    const list = await plane.schedules.list(session.caller);
    const control = canControl(session.caller);
    const body = html`<p class="muted">Curtailment windows: what each schedule does to which miners, when it runs next and how its last windows went.</p>
${control ? createForm(session) : ''}
${
  list.length === 0
    ? html`<p class="muted">No schedules.</p>`
    : html`<div class="scroll" tabindex="0" role="region" aria-label="Schedules"><table data-testid="schedules"><thead><tr><th scope="col">Name</th><th scope="col">Miners</th><th scope="col">Action</th><th scope="col">When</th><th scope="col">Next start</th><th scope="col">Next end</th><th scope="col">Last window</th><th scope="col">By</th>${control ? html`<th scope="col"><span class="sr-only">Remove</span></th>` : ''}</tr></thead>
<tbody>${list.map(s => {
        const last = s.recent_windows[0];
        return html`<tr><th scope="row">${s.name}${s.enabled ? '' : html` <span class="muted">(disabled)</span>`}</th>
<td><code>${JSON.stringify(s.selector)}</code></td>
<td>${s.action.type === 'pause' ? 'pause' : `power target ${s.action.watt} W`}</td>
<td><code>${s.cron}</code> ${s.timezone}${s.duration_ms !== null ? ` for ${duration(s.duration_ms / 1000)}` : s.end_cron ? html` until <code>${s.end_cron}</code>` : ''}</td>
<td>${when(s.next_start_ms)}</td><td>${when(s.next_end_ms)}</td>
<td>${last ? `${when(last.start_ms)}: ${last.miners} miners${last.late ? ', late' : ''}${last.note ? `, ${last.note}` : ''}` : '—'}</td>
<td>${s.created_by}</td>${control ? html`<td><form method="post" action="/schedules/${encodeURIComponent(s.id)}/remove">${csrfField(session)}<button type="submit" class="danger" aria-label="Remove schedule ${s.name}">Remove</button></form></td>` : ''}</tr>`;
      })}</tbody></table></div>`
}`;
    reply.type('text/html');
    return page('Schedules', { session, path: '/schedules' }, body).text;
  });

  app.post('/schedules', async (req, reply) => {
    const session = req.consoleSession!;
    if (!plane) throw new FleetError('unavailable', 'this API runs without the schedules service');
    if (!canControl(session.caller)) throw new FleetError('forbidden', 'creating a schedule needs the operator role');
    const get = (n: string): string => (field(req.body, n) ?? '').trim();
    const minutes = get('minutes');
    if (!/^\d{1,5}$/.test(minutes)) throw new FleetError('invalid_argument', `window length "${minutes}": expected whole minutes, e.g. 60`);
    const action = get('action');
    const watt = get('watt');
    if (action === 'power_target' && !/^\d{1,6}$/.test(watt)) throw new FleetError('invalid_argument', `power target "${watt}": expected whole watts, e.g. 2500`);
    const site = get('site');
    // the service validates the rest (cron, time zone, ranges) and says what is wrong
    await plane.schedules.create(session.caller, {
      name: get('name'),
      selector: site ? { site } : { all: true },
      cron: get('cron'),
      timezone: get('timezone') || 'UTC',
      duration_ms: Number(minutes) * 60_000,
      action: action === 'power_target' ? { type: 'power_target', watt: Number(watt) } : { type: action },
    });
    return reply.redirect('/schedules', 303);
  });

  app.post('/schedules/:id/remove', async (req, reply) => {
    const session = req.consoleSession!;
    if (!plane) throw new FleetError('unavailable', 'this API runs without the schedules service');
    if (!canControl(session.caller)) throw new FleetError('forbidden', 'removing a schedule needs the operator role');
    await plane.schedules.remove(session.caller, (req.params as { id: string }).id);
    return reply.redirect('/schedules', 303);
  });
}
