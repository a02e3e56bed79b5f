import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { FleetError } from '../../core/errors.ts';
import type { ControlPlane, ControlResponse, ControlTarget } from '../../services/control/index.ts';
import { field } from '../auth.ts';
import { html, type Html } from '../html.ts';
import { num } from '../format.ts';
import { canControl, csrfField, page } from '../layout.ts';

/** What the miner page and the table offer (the rest of the API's actions stay in REST/MCP). */
export const MINER_PAGE_ACTIONS = ['pause', 'resume', 'reboot', 'locate_on', 'locate_off'] as const;
export const BATCH_ACTIONS = ['pause', 'resume', 'reboot', 'locate_on', 'locate_off'] as const;

const ACTION_LABELS: Record<string, string> = {
  pause: 'Pause',
  resume: 'Resume',
  reboot: 'Reboot',
  locate_on: 'Locate (LED on)',
  locate_off: 'Locate off',
  power_target: 'Power target',
  pools: 'Pools',
  cooling: 'Cooling',
  hashboards_enable: 'Enable hashboards',
  hashboards_disable: 'Disable hashboards',
};
export const actionLabel = (a: string): string => ACTION_LABELS[a] ?? a;

function fieldsOf(body: unknown, names: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const n of names) {
    const v = field(body, n);
    if (v !== undefined) out[n] = v;
  }
  return out;
}

/** The dry run's plan: what would change on each miner, and the fleet effect. */
function planView(r: ControlResponse): Html {
  return html`<div class="panel" data-testid="dry-run">
<p><strong>${r.description}</strong></p>
<p>${r.matched} miner${r.matched === 1 ? '' : 's'} matched${r.not_found.length > 0 ? html`; not found: ${r.not_found.join(', ')}` : ''}. ${Object.entries(r.counts).map(([k, n]) => `${n} ${k.replace('_', ' ')}`).join(', ')}</p>
<p class="muted">Estimated effect: ${num(r.effect.power_kw, 2)} kW, ${num(r.effect.hashrate_ths)} TH/s. ${r.effect.note}</p>
<div class="scroll" tabindex="0" role="region" aria-label="Table (scrolls sideways)"><table><thead><tr><th scope="col">Miner</th><th scope="col">Plan</th><th scope="col">Changes</th></tr></thead><tbody>
${r.miners.map(
  m => html`<tr><th scope="row">${m.id}</th><td>${m.status.replace('_', ' ')}${m.message ? html` <span class="muted">${m.message}</span>` : ''}</td>
<td>${(m.changes ?? []).map(c => html`<div>${c.field}: ${String(c.current)} → ${String(c.new)}</div>`)}</td></tr>`,
)}</tbody></table></div>
${r.miners_truncated ? html`<p class="muted">Only the first ${r.miners.length} miners are listed.</p>` : ''}
</div>`;
}

/**
 * Every console action runs twice: first as a dry run whose plan is shown with a Confirm
 * button, then (confirm=yes) for real. Both go through the same ControlService as REST.
 */
export function registerActionRoutes(app: FastifyInstance, plane: ControlPlane | undefined): void {
  const run = async (
    req: FastifyRequest,
    reply: FastifyReply,
    o: { target: ControlTarget; request: Record<string, unknown>; title: string; back: string; resend: Record<string, string | string[]>; after: (r: ControlResponse) => string },
  ): Promise<FastifyReply | string> => {
    const session = req.consoleSession!;
    if (!plane) throw new FleetError('unavailable', 'this API runs without the control plane; the console is read-only');
    if (!canControl(session.caller)) throw new FleetError('forbidden', 'control actions need the operator role');
    const confirmed = field(req.body, 'confirm') === 'yes';
    const r = await plane.control.execute(session.caller, o.target, o.request, { dryRun: !confirmed });
    if (confirmed) return reply.redirect(o.after(r), 303);
    const hidden = Object.entries(o.resend).flatMap(([k, v]) => (Array.isArray(v) ? v : [v]).map(x => html`<input type="hidden" name="${k}" value="${x}">`));
    reply.type('text/html');
    return page(
      o.title,
      { session, path: req.url },
      html`<p>Nothing has changed yet. This is what would happen:</p>
${planView(r)}
<form method="post" action="${req.url}" class="actions">${csrfField(session)}${hidden}<input type="hidden" name="confirm" value="yes">
<button type="submit" class="danger">Confirm</button> <a href="${o.back}">Cancel</a></form>`,
    ).text;
  };

  app.post('/miners/:id/actions', async (req, reply) => {
    const { id } = req.params as { id: string };
    const action = field(req.body, 'action') ?? '';
    if (!(MINER_PAGE_ACTIONS as readonly string[]).includes(action))
      throw new FleetError('invalid_argument', `unknown action "${action}"; expected one of ${MINER_PAGE_ACTIONS.join(', ')}`);
    const back = `/miners/${encodeURIComponent(id)}`;
    return await run(req, reply, {
      target: { id },
      request: { kind: 'action', action },
      title: `${actionLabel(action)} ${id}?`,
      back,
      resend: { action },
      after: r => `${back}?done=${encodeURIComponent(action)}&result=${encodeURIComponent(r.miners[0]?.status ?? r.mode)}`,
    });
  });

  app.post('/miners/:id/power-target', async (req, reply) => {
    const { id } = req.params as { id: string };
    const raw = fieldsOf(req.body, ['watt']).watt ?? '';
    const watt = Number(raw);
    if (!/^\d{1,6}$/.test(raw) || !Number.isInteger(watt) || watt < 1)
      throw new FleetError('invalid_argument', `power target "${raw}": expected whole watts, e.g. 3000`);
    const back = `/miners/${encodeURIComponent(id)}`;
    return await run(req, reply, {
      target: { id },
      request: { kind: 'power_target', watt },
      title: `Set the power target of ${id} to ${watt} W?`,
      back,
      resend: { watt: raw },
      after: r => `${back}?done=power_target&result=${encodeURIComponent(r.miners[0]?.status ?? r.mode)}`,
    });
  });

  app.post('/miners/:id/pools', async (req, reply) => {
    const { id } = req.params as { id: string };
    const f = fieldsOf(req.body, ['group', 'url', 'user', 'password']);
    if (!f.url || !f.user) throw new FleetError('invalid_argument', 'a pool needs its URL (e.g. stratum+tcp://pool.example.com:3333) and user');
    const pool: Record<string, string> = { url: f.url, user: f.user };
    // sent to the miner only; the dry-run page carries it to the confirm step in a hidden field and never shows it
    if (f.password) pool.password = f.password;
    const back = `/miners/${encodeURIComponent(id)}`;
    return await run(req, reply, {
      target: { id },
      request: { kind: 'pools', op: 'replace', groups: [{ name: f.group || 'Default', pools: [pool] }] },
      title: `Replace the pools of ${id} with ${f.url}?`,
      back,
      resend: f,
      after: r => `${back}?done=pools&result=${encodeURIComponent(r.miners[0]?.status ?? r.mode)}`,
    });
  });

  app.post('/miners/:id/cooling', async (req, reply) => {
    const { id } = req.params as { id: string };
    const f = fieldsOf(req.body, ['mode', 'target_c', 'hot_c', 'dangerous_c', 'fan_pct']);
    const request: Record<string, unknown> = { kind: 'cooling', mode: f.mode };
    if (!['auto', 'manual', 'immersion'].includes(f.mode ?? '')) throw new FleetError('invalid_argument', `cooling mode "${f.mode ?? ''}": expected auto, manual or immersion`);
    for (const k of ['target_c', 'hot_c', 'dangerous_c'] as const) {
      const v = f[k];
      if (v === undefined || v === '') continue;
      if (!/^\d{1,3}(\.\d+)?$/.test(v)) throw new FleetError('invalid_argument', `${k.replace('_c', '')} temperature "${v}": expected degrees Celsius, e.g. 75`);
      request[k] = Number(v);
    }
    if (f.mode === 'manual') {
      if (!f.fan_pct || !/^\d{1,3}$/.test(f.fan_pct) || Number(f.fan_pct) > 100) throw new FleetError('invalid_argument', `fan speed "${f.fan_pct ?? ''}": expected a whole percentage 0–100 for manual cooling`);
      request.fan_speed_ratio = Number(f.fan_pct) / 100;
      delete request.target_c;
    }
    const back = `/miners/${encodeURIComponent(id)}`;
    return await run(req, reply, {
      target: { id },
      request,
      title: `Set the cooling of ${id} to ${f.mode}?`,
      back,
      resend: f,
      after: r => `${back}?done=cooling&result=${encodeURIComponent(r.miners[0]?.status ?? r.mode)}`,
    });
  });

  app.post('/miners/:id/hashboards', async (req, reply) => {
    const { id } = req.params as { id: string };
    const body = req.body as Record<string, unknown>;
    const boards = (Array.isArray(body.boards) ? body.boards : typeof body.boards === 'string' ? [body.boards] : []).filter((x): x is string => typeof x === 'string');
    if (boards.length === 0) throw new FleetError('invalid_argument', 'tick at least one hashboard first');
    const op = field(req.body, 'op');
    if (op !== 'enable' && op !== 'disable') throw new FleetError('invalid_argument', `hashboard operation "${op ?? ''}": expected enable or disable`);
    const back = `/miners/${encodeURIComponent(id)}`;
    return await run(req, reply, {
      target: { id },
      request: { kind: 'hashboards', enable: op === 'enable', hashboard_ids: boards },
      title: `${op === 'enable' ? 'Enable' : 'Disable'} hashboard${boards.length === 1 ? '' : 's'} ${boards.join(', ')} of ${id}?`,
      back,
      resend: { op, boards },
      after: r => `${back}?done=hashboards_${op}&result=${encodeURIComponent(r.miners[0]?.status ?? r.mode)}`,
    });
  });

  app.post('/miners/batch', async (req, reply) => {
    const body = req.body as Record<string, unknown>;
    const ids = (Array.isArray(body.ids) ? body.ids : typeof body.ids === 'string' ? [body.ids] : []).filter((x): x is string => typeof x === 'string');
    if (ids.length === 0) throw new FleetError('invalid_argument', 'select at least one miner in the table first');
    const action = field(req.body, 'action') ?? '';
    if (!(BATCH_ACTIONS as readonly string[]).includes(action))
      throw new FleetError('invalid_argument', `unknown action "${action}"; expected one of ${BATCH_ACTIONS.join(', ')}`);
    return await run(req, reply, {
      target: ids.length === 1 ? { id: ids[0]! } : { selector: { ids } },
      request: { kind: 'action', action },
      title: `${actionLabel(action)} ${ids.length} miner${ids.length === 1 ? '' : 's'}?`,
      back: '/miners',
      resend: { action, ids },
      after: r => (r.job ? `/jobs/${encodeURIComponent(r.job.id)}` : `/miners/${encodeURIComponent(ids[0]!)}?done=${encodeURIComponent(action)}&result=${encodeURIComponent(r.miners[0]?.status ?? r.mode)}`),
    });
  });
}
