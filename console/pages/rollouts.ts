import type { FastifyInstance } from 'fastify';
import { FleetError } from '../../core/errors.ts';
import type { ControlPlane } from '../../services/control/index.ts';
import type { RolloutPlan } from '../../services/rollouts/rollout-service.ts';
import { field } from '../auth.ts';
import { html, type Html } from '../html.ts';
import { canControl, csrfField, page } from '../layout.ts';
import type { ConsoleSession } from '../sessions.ts';

/** Form fields of a rollout, as typed (resent unchanged from the dry run to the confirm step). */
const FIELDS = ['image', 'site', 'ids', 'canary_size', 'wave_size', 'parallelism', 'hashrate_gate_pct'] as const;
type RolloutForm = Partial<Record<(typeof FIELDS)[number], string>>;

/** The rollout service's input from the form; the service checks ranges and says what is wrong. */
function rolloutInput(f: RolloutForm, dryRun: boolean): Record<string, unknown> {
  const whole = (k: (typeof FIELDS)[number]): number | undefined => {
    const v = f[k];
    if (v === undefined || v === '') return undefined;
    if (!/^\d{1,6}$/.test(v)) throw new FleetError('invalid_argument', `${k.replaceAll('_', ' ')} "${v}": expected a whole number`);
    return Number(v);
  };
  const ids = (f.ids ?? '').split(/[\s,]+/).filter(Boolean);
  const selector = ids.length > 0 ? { ids } : f.site ? { site: f.site } : { all: true };
  const input: Record<string, unknown> = { image: f.image ?? '', selector, dryRun };
  for (const k of ['canary_size', 'wave_size', 'parallelism', 'hashrate_gate_pct'] as const) {
    const v = whole(k);
    if (v !== undefined) input[k] = v;
  }
  return input;
}

function planView(p: RolloutPlan): Html {
  const count = (a: string): number => p.miners.filter(m => m.action === a).length;
  return html`<div class="panel" data-testid="rollout-plan">
<p><strong>Firmware ${p.image.version} (${p.image.name})</strong>: ${p.matched} miner${p.matched === 1 ? '' : 's'} matched${p.not_found.length ? `; not found: ${p.not_found.join(', ')}` : ''}. ${count('upgrade')} can upgrade, ${count('skip')} already current, ${count('exclude')} cannot upgrade.</p>
<p class="muted">${p.waves.length} wave${p.waves.length === 1 ? '' : 's'} (canary of ${p.options.canary_size}, then ${p.options.wave_size} per wave, ${p.options.parallelism} at once); health gate: hashrate back to ${p.options.hashrate_gate_pct} % within ${Math.round(p.options.gate_timeout_ms / 60_000)} min; failed miners ${p.options.rollback ? 'are rolled back' : 'are left as they are'}.</p>
<div class="scroll" tabindex="0" role="region" aria-label="Rollout plan per miner"><table data-testid="rollout-miners"><thead><tr><th scope="col">Miner</th><th scope="col">Site</th><th scope="col">Firmware now</th><th scope="col">Plan</th><th scope="col">Why</th></tr></thead>
<tbody>${p.miners.map(m => html`<tr><th scope="row">${m.id}</th><td>${m.site}</td><td>${m.firmware ?? '—'}</td><td>${m.action === 'upgrade' ? 'can upgrade' : m.action === 'skip' ? 'skip' : html`<span class="badge offline">cannot upgrade</span>`}</td><td>${m.reason ?? ''}</td></tr>`)}</tbody></table></div>
</div>`;
}

/** Firmware rollouts: a form, the service's dry-run plan (per-miner can/can't upgrade and why), then confirm. */
export function registerRolloutPages(app: FastifyInstance, plane: ControlPlane | undefined): void {
  const need = (session: ConsoleSession): ControlPlane => {
    if (!plane) throw new FleetError('unavailable', 'this API runs without the rollout service');
    if (!canControl(session.caller)) throw new FleetError('forbidden', 'firmware rollouts need the operator role');
    return plane;
  };

  app.get('/rollouts/new', async (req, reply) => {
    const session = req.consoleSession!;
    const images = await need(session).firmware.list(session.caller);
    const body = html`<p class="muted">Pick an uploaded image and the miners; the dry run shows which miners can take it and why not before anything starts.</p>
${images.length === 0 ? html`<p class="muted">No firmware images yet; an admin uploads them with <code>POST /api/v1/firmware</code>.</p>` : ''}
<form method="post" action="/rollouts" class="panel filters" data-testid="rollout-form">${csrfField(session)}<fieldset><legend>New rollout</legend>
<label>Image<select name="image" required>${images.map(i => html`<option value="${i.sha256}">${i.version} · ${i.name}${i.platform ? ` · ${i.platform}` : ''}</option>`)}</select></label>
<label>Site (empty: whole fleet)<input name="site" size="12"></label>
<label>Or miner ids<input name="ids" size="24" placeholder="id1, id2"></label>
<label>Canary miners<input name="canary_size" inputmode="numeric" size="4" value="1"></label>
<label>Per wave<input name="wave_size" inputmode="numeric" size="4" value="10"></label>
<label>At once<input name="parallelism" inputmode="numeric" size="4" value="5"></label>
<label>Health gate (% of hashrate)<input name="hashrate_gate_pct" inputmode="numeric" size="4" value="90"></label>
<button type="submit">Preview (dry run)</button></fieldset></form>`;
    reply.type('text/html');
    return page('New firmware rollout', { session, path: '/jobs' }, body).text;
  });

  app.post('/rollouts', async (req, reply) => {
    const session = req.consoleSession!;
    const p = need(session);
    const f: RolloutForm = {};
    for (const k of FIELDS) {
      const v = field(req.body, k);
      if (v !== undefined) f[k] = v.trim();
    }
    const confirmed = field(req.body, 'confirm') === 'yes';
    const plan = await p.rollouts.start(session.caller, rolloutInput(f, !confirmed));
    if (confirmed && plan.job) return reply.redirect(`/jobs/${encodeURIComponent(plan.job.id)}`, 303);
    const canStart = plan.miners.some(m => m.action === 'upgrade');
    reply.type('text/html');
    return page(
      `Roll out ${plan.image.version}?`,
      { session, path: '/jobs' },
      html`<p>Nothing has started yet. This is the plan:</p>
${planView(plan)}
<form method="post" action="/rollouts" class="actions">${csrfField(session)}${Object.entries(f).map(([k, v]) => html`<input type="hidden" name="${k}" value="${v}">`)}<input type="hidden" name="confirm" value="yes">
${canStart ? html`<button type="submit" class="danger">Start rollout</button>` : html`<p class="warn">No miner here can take this image.</p>`} <a href="/rollouts/new">Cancel</a></form>`,
    ).text;
  });
}
