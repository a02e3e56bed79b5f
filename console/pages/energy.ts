import type { FastifyInstance } from 'fastify';
import { isFleetError } from '../../core/errors.ts';
import type { PricesUsed, ProfitabilityService } from '../../services/energy/profitability-service.ts';
import { html, type Html } from '../html.ts';
import { age, num, withUnit } from '../format.ts';
import { page } from '../layout.ts';
import { rangeParam, rangePicker } from './ranges.ts';

/** Most losing miners listed; the REST route and MCP tool page through the rest. */
const LOSING_SHOWN = 100;

/**
 * Profitability of the caller's miners: fleet and per-site margin over the chosen range, the
 * miners losing money at the current prices, and which prices were used and how old they are.
 */
export function registerEnergyPage(app: FastifyInstance, profitability: ProfitabilityService): void {
  app.get('/energy', async (req, reply) => {
    const caller = req.consoleSession!.caller;
    const range = rangeParam(req.query);
    reply.type('text/html');
    const ctx = { session: req.consoleSession, path: '/energy' };
    let body: Html;
    try {
      const [p, losing] = await Promise.all([
        profitability.profitability(caller, { from: `now-${range}`, group_by: 'site' }),
        profitability.losingMiners(caller, { limit: LOSING_SHOWN }),
      ]);
      const c = p.prices.currency;
      const money = (v: number): string => `${num(v, 2)} ${c}`;
      const cls = (v: number): string => (v < 0 ? 'warn' : '');
      body = html`
${pricesLine(p.prices)}
<section aria-labelledby="fleet-h"><h2 id="fleet-h">Fleet, last ${range}</h2>
${rangePicker('/energy', range)}
<p class="muted">${p.window.from} .. ${p.window.to} (${num(p.hours, 2)} h) · ${p.fleet.miners} miners${p.hint ? html` · ${p.hint}` : ''}</p>
<dl class="figures">
  <div><dt>Revenue</dt><dd data-testid="revenue">${money(p.fleet.revenue)}</dd></div>
  <div><dt>Power cost</dt><dd data-testid="power-cost">${money(p.fleet.power_cost)}</dd></div>
  <div><dt>Margin</dt><dd data-testid="margin" class="${cls(p.fleet.margin)}">${money(p.fleet.margin)}</dd></div>
  <div><dt>Break-even energy price</dt><dd>${p.fleet.break_even_price_per_mwh === null ? '—' : `${num(p.fleet.break_even_price_per_mwh, 2)} ${c}/MWh`}</dd></div>
  <div><dt>Energy</dt><dd>${withUnit(p.fleet.energy_mwh, 'MWh', 3)} · ${withUnit(p.fleet.power_kw, 'kW', 2)} mean</dd></div>
</dl></section>

<section aria-labelledby="sites-h"><h2 id="sites-h">Sites</h2>
<div class="scroll" tabindex="0" role="region" aria-label="Table (scrolls sideways)"><table data-testid="sites">
<thead><tr><th scope="col">Site</th><th scope="col">Miners</th><th scope="col">Losing</th><th scope="col">Revenue (${c})</th><th scope="col">Power cost (${c})</th><th scope="col">Margin (${c})</th><th scope="col">Break-even (${c}/MWh)</th></tr></thead>
<tbody>${p.groups.map(
        s => html`<tr><th scope="row"><a href="/miners?site=${s.key ?? ''}">${s.key ?? '—'}</a></th><td>${s.miners}</td><td>${s.losing_miners}</td><td>${num(s.revenue, 2)}</td><td>${num(s.power_cost, 2)}</td><td class="${cls(s.margin)}">${num(s.margin, 2)}</td><td>${num(s.break_even_price_per_mwh, 2)}</td></tr>`,
      )}</tbody></table></div></section>

<section aria-labelledby="losing-h"><h2 id="losing-h">Losing money now</h2>
<p class="muted">Mean hashrate and power over ${losing.window.from} .. ${losing.window.to} at energy ${num(losing.prices.energy_price_per_mwh.value, 2)} ${c}/MWh now.</p>
${
  losing.total === 0
    ? html`<p class="ok" data-testid="no-losing">No miner loses money at the current prices (${losing.evaluated} evaluated).</p>`
    : html`<p data-testid="losing-count">${losing.total} of ${losing.evaluated} miners lose money: together ${money(losing.loss)} over ${num(losing.hours, 2)} h.</p>
<div class="scroll" tabindex="0" role="region" aria-label="Table (scrolls sideways)"><table data-testid="losing">
<thead><tr><th scope="col">Miner</th><th scope="col">Site</th><th scope="col">Model</th><th scope="col">J/TH</th><th scope="col">Power (kW)</th><th scope="col">Margin (${c})</th><th scope="col">Break-even (${c}/MWh)</th></tr></thead>
<tbody>${losing.items.map(
        m => html`<tr><th scope="row"><a href="/miners/${encodeURIComponent(m.miner)}">${m.miner}</a></th><td>${m.site}</td><td>${m.model ?? '—'}</td><td>${num(m.efficiency_jth)}</td><td>${num(m.power_kw, 2)}</td><td class="warn">${num(m.margin, 4)}</td><td>${num(m.break_even_price_per_mwh, 2)}</td></tr>`,
      )}</tbody></table></div>
${losing.truncated ? html`<p class="muted">Showing the ${LOSING_SHOWN} biggest losses of ${losing.total}.</p>` : ''}`
}
</section>`;
    } catch (err) {
      // Prices not configured: say how to configure them instead of an error page.
      if (!isFleetError(err) || err.code !== 'precondition_failed') throw err;
      body = html`<p class="warn" role="alert" data-testid="not-configured">${err.message}.</p>
<p class="muted">Profitability needs a hashprice (HASHPRICE_SOURCE) and an energy price (ENERGY_PRICE_SOURCE); see docs/energy.md.</p>`;
    }
    return page('Energy', ctx, body).text;
  });
}

function pricesLine(p: PricesUsed): Html {
  const h = p.hashprice_per_ths_day;
  const e = p.energy_price_per_mwh;
  return html`<p class="asof" data-testid="prices">Hashprice <strong>${num(h.value, 4)} ${p.currency}/TH/s/day</strong> (${h.source}, as of <time datetime="${h.as_of}">${age(h.as_of)}</time>${h.stale ? html`, <strong class="warn">stale</strong>` : ''})
· energy <strong>${num(e.value, 2)} ${p.currency}/MWh</strong> (${e.source}, as of <time datetime="${e.as_of}">${age(e.as_of)}</time>)</p>`;
}
