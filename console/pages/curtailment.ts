import type { FastifyInstance } from 'fastify';
import { FleetError } from '../../core/errors.ts';
import type { ControlPlane } from '../../services/control/index.ts';
import type { PlanAnswer } from '../../services/energy/energy-service.ts';
import type { StoredPolicy } from '../../services/energy/policy-record.ts';
import { field } from '../auth.ts';
import { html, type Html } from '../html.ts';
import { num } from '../format.ts';
import { canControl, csrfField, page } from '../layout.ts';
import type { ConsoleSession } from '../sessions.ts';

const when = (ms: number | null): string => (ms === null ? '—' : new Date(ms).toISOString().replace('T', ' ').slice(0, 16) + ' UTC');

const targetText = (p: StoredPolicy): string =>
  p.policy.target.kind === 'cap_kw' ? `cap ${p.policy.target.cap_kw} kW` : `−${p.policy.target.percent} %`;

function nextWindow(a: PlanAnswer | Error): Html {
  if (a instanceof Error) return html`<span class="muted">plan unavailable: ${a.message}</span>`;
  const prices = a.plan.prices.fallback_applied ? html` <span class="warn">(prices ${a.plan.prices.status}: ${a.plan.prices.fallback_applied})</span>` : '';
  const w = a.plan.windows[0];
  if (!w) return html`none in the horizon${prices}`;
  return html`${when(w.start_ms)} – ${when(w.end_ms)}: ${w.miners_curtailed} miners, −${num(w.reduction_kw)} kW${w.sites.some(s => s.shortfall_kw > 0) ? ' (target not met)' : ''}${prices}`;
}

function signalForm(session: ConsoleSession): Html {
  return html`<form method="post" action="/curtailment/signal" class="panel filters" data-testid="signal-form">${csrfField(session)}<fieldset><legend>Demand response: curtail now</legend>
<label>Site<input name="site" required size="12"></label>
<label>Cap (kW)<input name="cap_kw" required inputmode="decimal" size="6"></label>
<label>For (minutes)<input name="minutes" required inputmode="numeric" size="5" value="30"></label>
<button type="submit" class="danger">Curtail</button></fieldset></form>`;
}

/** Curtailment policies, each one's next planned window, and the latest executions; operators give demand-response signals here. */
export function registerCurtailmentPage(app: FastifyInstance, plane: ControlPlane | undefined): void {
  app.get('/curtailment', async (req, reply) => {
    const session = req.consoleSession!;
    if (!plane) throw new FleetError('unavailable', 'this API runs without the energy service');
    const caller = session.caller;
    const [policies, executions] = await Promise.all([plane.energy.listPolicies(caller), plane.energy.listExecutions(caller, { limit: 10 })]);
    const plans = await Promise.all(policies.map(p => plane.energy.plan(caller, p.id).catch((err: unknown) => err as Error)));
    const control = canControl(caller);
    const body = html`<p class="muted">Curtailment on energy prices and grid signals: each policy's next window (a dry run over the known prices) and what recent windows did.</p>
${control ? signalForm(session) : ''}
<h2>Policies</h2>
${
  policies.length === 0
    ? html`<p class="muted">No policies. Create one with PUT /api/v1/energy/policies/{id}.</p>`
    : html`<div class="scroll" tabindex="0" role="region" aria-label="Curtailment policies"><table data-testid="curtailment-policies"><thead><tr><th scope="col">Policy</th><th scope="col">Site</th><th scope="col">Strike</th><th scope="col">Target</th><th scope="col">Ramp</th><th scope="col">Prices</th><th scope="col">Next window</th></tr></thead>
<tbody>${policies.map(
        (p, i) => html`<tr><th scope="row">${p.id}${p.enabled ? '' : html` <span class="muted">(disabled)</span>`}</th><td>${p.policy.selector.site ?? 'all'}</td><td>${num(p.policy.strike_price_per_mwh)} ${p.policy.currency}/MWh</td><td>${targetText(p)}</td><td>${num(p.policy.ramp_kw_per_min)} kW/min</td><td>${p.price_source.kind}, fallback ${p.policy.fallback}</td><td>${nextWindow(plans[i]!)}</td></tr>`,
      )}</tbody></table></div>`
}
<h2>Executions</h2>
${
  executions.length === 0
    ? html`<p class="muted">No curtailment has run yet.</p>`
    : html`<div class="scroll" tabindex="0" role="region" aria-label="Curtailment executions"><table data-testid="curtailment-executions"><thead><tr><th scope="col">Window</th><th scope="col">Source</th><th scope="col">Why</th><th scope="col">Status</th><th scope="col">Steps run</th><th scope="col">Planned −kW</th></tr></thead>
<tbody>${executions.map(
        e => html`<tr><th scope="row"><a href="/api/v1/energy/executions/${e.id}">${when(e.window.start_ms)} – ${when(e.window.end_ms)}</a></th><td>${e.kind === 'demand_response' ? `signal ${e.source_id}` : `policy ${e.source_id}`}</td><td>${e.window.reasons.join(', ')}</td><td>${e.status}</td><td>${e.runs.length} / ${e.steps.length}</td><td>${num(e.reduction_kw)}</td></tr>`,
      )}</tbody></table></div>`
}`;
    reply.type('text/html');
    return page('Curtailment', { session, path: '/curtailment' }, body).text;
  });

  app.post('/curtailment/signal', async (req, reply) => {
    const session = req.consoleSession!;
    if (!plane) throw new FleetError('unavailable', 'this API runs without the energy service');
    if (!canControl(session.caller)) throw new FleetError('forbidden', 'a demand-response signal needs the operator role');
    const get = (n: string): string => (field(req.body, n) ?? '').trim();
    const cap = Number(get('cap_kw'));
    const minutes = Number(get('minutes'));
    if (!(get('cap_kw') !== '' && Number.isFinite(cap))) throw new FleetError('invalid_argument', `cap "${get('cap_kw')}": expected kW as a number, e.g. 800`);
    if (!(Number.isFinite(minutes) && minutes > 0)) throw new FleetError('invalid_argument', `minutes "${get('minutes')}": expected whole minutes, e.g. 30`);
    // the service checks the rest (site, ranges) and says what is wrong
    await plane.energy.signal(session.caller, { id: `console-${Date.now()}`, site: get('site'), cap_kw: cap, duration_minutes: minutes });
    return reply.redirect('/curtailment', 303);
  });
}
