import type { FastifyInstance } from 'fastify';
import { boardHashing } from '../../collector/normalize.ts';
import type { FleetQuery } from '../../services/query/fleet-query.ts';
import type { MinerDetail } from '../../api/schemas/miners.ts';
import { html, type Html } from '../html.ts';
import { age, duration, num, REASON_LABELS, STATUS_LABELS, withUnit } from '../format.ts';
import { canControl, csrfField, page } from '../layout.ts';
import type { ConsoleSession } from '../sessions.ts';
import { actionLabel, MINER_PAGE_ACTIONS } from './actions.ts';
import { AnswerCache } from '../answer-cache.ts';
import { CHART_FRESH_MS, fitChart, RANGES, rangeParam, rangePicker, type ChartData } from './ranges.ts';
import { eventsTable } from './events.ts';

export function registerMinerPage(app: FastifyInstance, fleetQuery: FleetQuery): void {
  app.get('/miners/:id', async (req, reply) => {
    const session = req.consoleSession!;
    const { id } = req.params as { id: string };
    const q = req.query as Record<string, string | undefined>;
    const range = rangeParam(req.query);
    // getMiner answers not_found for another tenant's miner: the error handler renders a 404 page.
    const m = await fleetQuery.getMiner(session.caller, id);
    const events = await fleetQuery.events(session.caller, { miner: m.id, limit: 20 });
    const path = `/miners/${encodeURIComponent(m.id)}`;
    const body = html`
${q.done ? html`<p class="panel ok" role="status" data-testid="done">${actionLabel(q.done)}: ${q.result ?? 'done'}. The status below follows at the next poll.</p>` : ''}
<p class="asof">Status <span class="badge ${m.status}" data-testid="status">${STATUS_LABELS[m.status] ?? m.status}</span>
${m.degraded_reasons.map(r => html` <span class="badge degraded">${REASON_LABELS[r] ?? r}</span>`)}
· miner reports ${m.miner_status ?? '—'} · as of <time datetime="${m.sample_time ?? ''}">${age(m.sample_time ?? m.last_seen)}</time>${m.stale ? html` <strong class="warn">(stale)</strong>` : ''}
${m.last_error ? html`<br><span class="error">Last error: ${m.last_error}</span>` : ''}</p>
${canControl(session.caller) ? actions(m, session) : ''}
<div class="grid2">
<section class="panel" aria-labelledby="id-h"><h2 id="id-h">Identity</h2><dl class="figures">
  <div><dt>Hostname</dt><dd>${m.hostname ?? '—'}</dd></div><div><dt>Address</dt><dd>${m.address}</dd></div>
  <div><dt>Site</dt><dd>${m.site}</dd></div><div><dt>Model</dt><dd>${m.model ?? '—'}</dd></div>
  <div><dt>Firmware</dt><dd>${m.firmware ?? '—'}</dd></div><div><dt>Uptime</dt><dd>${duration(m.uptime_s)}</dd></div>
  ${m.details ? html`<div><dt>Serial</dt><dd>${m.details.serial ?? '—'}</dd></div><div><dt>MAC</dt><dd>${m.details.mac ?? '—'}</dd></div>` : ''}
  <div><dt>Labels</dt><dd>${Object.entries(m.labels).map(([k, v]) => `${k}=${v}`).join(', ') || '—'}</dd></div>
</dl></section>
<section class="panel" aria-labelledby="now-h"><h2 id="now-h">Now</h2><dl class="figures">
  <div><dt>Hashrate</dt><dd>${withUnit(m.hashrate_ths, 'TH/s')} <span class="muted">of ${withUnit(m.hashrate_nominal_ths, 'TH/s')} (${withUnit(m.pct_nominal, '%', 0)})</span></dd></div>
  <div><dt>Power</dt><dd>${withUnit(m.power_w, 'W', 0)} <span class="muted">target ${withUnit(m.power_target_w, 'W', 0)}</span></dd></div>
  <div><dt>Efficiency</dt><dd>${withUnit(m.efficiency_jth, 'J/TH')}</dd></div>
  <div><dt>Max chip</dt><dd>${withUnit(m.temp_chip_max_c, '°C', 0)}</dd></div>
  <div><dt>Tuner</dt><dd>${m.tuner_state ?? '—'}</dd></div>
  <div><dt>Shares</dt><dd>${m.shares ? `${m.shares.accepted} accepted, ${m.shares.rejected} rejected, ${m.shares.stale} stale` : '—'}</dd></div>
</dl></section>
</div>

<section aria-labelledby="boards-h"><h2 id="boards-h">Hashboards (${m.boards_hashing ?? '—'} of ${m.boards_total ?? '—'} hashing)</h2>
<div class="scroll" tabindex="0" role="region" aria-label="Table (scrolls sideways)"><table data-testid="boards" class="collapse"><thead><tr><th scope="col">Board</th><th scope="col">State</th><th scope="col" class="num">Hashrate (TH/s)</th><th scope="col" class="num">Expected</th><th scope="col">% expected</th><th scope="col" class="num">Chip °C</th><th scope="col" class="num">Board °C</th><th scope="col" class="num">Chips</th><th scope="col" class="num">MHz</th><th scope="col" class="num">V</th></tr></thead>
<tbody>${m.boards.map(b => {
  // the collector's own rule (chips detected, >= 5 % of nominal), so page and status agree
  const dead = b.enabled && !boardHashing({ enabled: b.enabled, chips: b.chips, hashrate_ghs: b.hashrate_ths * 1000, hashrate_nominal_ghs: b.hashrate_nominal_ths * 1000 } as Parameters<typeof boardHashing>[0]);
  return html`<tr class="${dead ? 'dead' : ''}"><th scope="row" data-label="Board">${b.board}</th>
<td data-label="State">${!b.enabled ? 'disabled' : dead ? html`<span class="badge offline">dead</span>` : 'hashing'}</td>
<td class="num" data-label="Hashrate (TH/s)">${num(b.hashrate_ths, 2)}</td><td class="num" data-label="Expected">${num(b.hashrate_nominal_ths, 2)}</td>
<td data-label="% expected"><meter min="0" max="120" low="90" optimum="100" value="${b.pct_nominal ?? 0}" aria-label="Board ${b.board} at ${num(b.pct_nominal, 0)} % of expected"></meter> ${num(b.pct_nominal, 0)}</td>
<td class="num" data-label="Chip °C">${num(b.temp_chip_c, 0)}</td><td class="num" data-label="Board °C">${num(b.temp_board_c, 0)}</td>
<td class="num" data-label="Chips">${b.chips ?? '—'}</td><td class="num" data-label="MHz">${num(b.frequency_mhz, 0)}</td><td class="num" data-label="V">${num(b.voltage_v, 2)}</td></tr>`;
})}</tbody></table></div></section>

<div class="fans-pools">
<section aria-labelledby="fans-h"><h2 id="fans-h">Fans</h2>
<table><thead><tr><th scope="col">Fan</th><th scope="col" class="num">RPM</th><th scope="col" class="num">PWM %</th></tr></thead>
<tbody>${m.fans.map(f => html`<tr><th scope="row">${f.fan}</th><td class="num">${f.rpm}</td><td class="num">${num(f.pwm_pct, 0)}</td></tr>`)}</tbody></table></section>
<section aria-labelledby="pools-h"><h2 id="pools-h">Pools</h2>
<div class="scroll" tabindex="0" role="region" aria-label="Table (scrolls sideways)"><table><thead><tr><th scope="col">Group</th><th scope="col">URL</th><th scope="col">User</th><th scope="col">State</th><th scope="col" class="num">Accepted</th><th scope="col" class="num">Rejected</th><th scope="col" class="num">Stale</th></tr></thead>
<tbody>${m.pools.map(p => html`<tr><td>${p.group}</td><td>${p.url}</td><td>${p.user}</td><td>${p.active ? 'active, ' : ''}${p.alive ? 'alive' : html`<span class="badge offline">dead</span>`}${p.enabled ? '' : ', disabled'}</td><td class="num">${p.accepted}</td><td class="num">${p.rejected}</td><td class="num">${p.stale}</td></tr>`)}</tbody></table></div></section>
</div>

<section aria-labelledby="hist-h"><h2 id="hist-h">History</h2>
${rangePicker(path, range)}
<div class="chart" role="img" aria-label="Hashrate, expected hashrate, power and chip temperature of ${m.id} over the last ${range}" data-chart="${path}/telemetry.json?range=${range}"></div>
</section>

<section aria-labelledby="ev-h"><h2 id="ev-h">Events</h2>${eventsTable(events.items, false)}
<p><a href="/events?miner=${encodeURIComponent(m.id)}">All events of this miner</a></p></section>`;
    reply.type('text/html');
    return page(m.id, { session, path: '/miners' }, body, { charts: true, preload: [`${path}/telemetry.json?range=${range}`] }).text;
  });

  const charts = new AnswerCache<ChartData>({ freshMs: CHART_FRESH_MS, maxEntries: 256 });
  app.get('/miners/:id/telemetry.json', async req => {
    const session = req.consoleSession!;
    const { id } = req.params as { id: string };
    const range = rangeParam(req.query);
    return await charts.get(`${session.caller.tenant}\u0000${id}\u0000${range}`, async () => {
    const t = await fleetQuery.telemetry(session.caller, id, { metrics: 'hashrate_ths,hashrate_nominal_ths,power_w,temp_chip_max_c', from: `now-${range}` });
    const col = (k: string): (number | null)[] => t.points.map(p => (p[k] as number | null | undefined) ?? null);
    return fitChart({
      x: t.points.map(p => Date.parse(p.time) / 1000),
      series: [
        { label: 'Hashrate', unit: 'TH/s', scale: 'ths', values: col('hashrate_ths') },
        { label: 'Expected', unit: 'TH/s', scale: 'ths', values: col('hashrate_nominal_ths'), dash: true },
        { label: 'Power', unit: 'W', scale: 'w', values: col('power_w') },
        { label: 'Max chip', unit: '°C', scale: 'c', values: col('temp_chip_max_c') },
      ],
    });
    });
  });
  void RANGES;
}

function actions(m: MinerDetail, session: ConsoleSession): Html {
  const path = `/miners/${encodeURIComponent(m.id)}`;
  const offered = MINER_PAGE_ACTIONS.filter(a => (m.status === 'paused' ? a !== 'pause' : a !== 'resume'));
  return html`<section aria-labelledby="act-h" class="panel" data-testid="actions"><h2 id="act-h">Actions</h2>
<p class="muted">Each action shows its dry run first; nothing changes until you confirm.</p>
<div class="actions">
${offered.map(a => html`<form method="post" action="${path}/actions">${csrfField(session)}<input type="hidden" name="action" value="${a}"><button type="submit" class="secondary">${actionLabel(a)}…</button></form>`)}
<form method="post" action="${path}/power-target">${csrfField(session)}<label>Power target (W)<input name="watt" inputmode="numeric" pattern="[0-9]+" required size="6" value="${m.power_target_w ?? ''}"></label><button type="submit" class="secondary">Set…</button></form>
</div>
<details data-testid="more-actions"><summary>Pools, cooling, hashboards</summary>
<form method="post" action="${path}/pools" class="actions" data-testid="pools-form">${csrfField(session)}<fieldset><legend>Replace pools (one group)</legend>
<label>Group<input name="group" value="${m.pools[0]?.group ?? 'Default'}" size="10"></label>
<label>URL<input name="url" required size="34" placeholder="stratum+tcp://pool.example.com:3333" value="${m.pools[0]?.url ?? ''}"></label>
<label>User<input name="user" required size="16" value="${m.pools[0]?.user ?? ''}"></label>
<label>Password<input name="password" type="password" size="10" autocomplete="off"></label>
<button type="submit" class="secondary">Set pools…</button></fieldset></form>
<form method="post" action="${path}/cooling" class="actions" data-testid="cooling-form">${csrfField(session)}<fieldset><legend>Cooling</legend>
<label>Mode<select name="mode"><option value="auto">auto</option><option value="manual">manual</option><option value="immersion">immersion</option></select></label>
<label>Target °C<input name="target_c" inputmode="numeric" size="4" value="75"></label>
<label>Hot °C<input name="hot_c" inputmode="numeric" size="4" value="90"></label>
<label>Dangerous °C<input name="dangerous_c" inputmode="numeric" size="4" value="100"></label>
<label>Fan % (manual)<input name="fan_pct" inputmode="numeric" size="4"></label>
<button type="submit" class="secondary">Set cooling…</button></fieldset></form>
<form method="post" action="${path}/hashboards" class="actions" data-testid="hashboards-form">${csrfField(session)}<fieldset><legend>Hashboards</legend>
${m.boards.map(b => html`<label><input type="checkbox" name="boards" value="${b.board}"> ${b.board}${b.enabled ? '' : ' (disabled)'}</label>`)}
<button type="submit" name="op" value="disable" class="secondary">Disable…</button> <button type="submit" name="op" value="enable" class="secondary">Enable…</button></fieldset></form>
</details></section>`;
}
