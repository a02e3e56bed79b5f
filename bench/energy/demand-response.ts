// Demand response on 1,000 simulated miners: the time from a "curtail site to X kW" signal to
// the site's real power (the simulator's truth) being at or under the cap, against the ramp.
// One process, embedded store, the real control plane (energy executor, batch-control jobs,
// gRPC to the simulated miners). The ramp is per whole minute (steps run at minute starts), so
// the measured time is at least the wait for the next minute plus one minute per further step.
//
//   npx node bench/energy/demand-response.ts
//   npx node bench/energy/demand-response.ts --miners 1000 --cap-share 0.6 --ramp 400
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { randomBytes } from 'node:crypto';
import { loadApiConfig } from '../../api/config.ts';
import { CredentialStore } from '../../collector/credentials.ts';
import type { InventoryMiner } from '../../collector/inventory/schema.ts';
import { MinerClientPool } from '../../collector/miner-client-pool.ts';
import { MinerTracker, pollMiner } from '../../collector/poller.ts';
import { SecretBox } from '../../collector/secret-box.ts';
import type { MinerSnapshot } from '../../core/samples.ts';
import { silentLogger } from '../../runtime/logger.ts';
import { createControlPlane } from '../../services/control/index.ts';
import type { ApiInfra, Caller } from '../../services/context.ts';
import { forEachLimit } from '../../services/control/concurrency.ts';
import { startSimulator } from '../../simulator/index.ts';
import { openEmbeddedStore } from '../../store/embedded/index.ts';
import { BenchGuard } from '../lib/bench-guard.ts';

const { values: args } = parseArgs({
  options: {
    miners: { type: 'string', default: '1000' },
    'cap-share': { type: 'string', default: '0.6' },
    ramp: { type: 'string', default: '400' },
    // what a paused simulated miner still draws (control board, fans): the plan counts it
    'residual-w': { type: 'string', default: '120' },
  },
});
const N = Number(args.miners);
const CAP_SHARE = Number(args['cap-share']);
const RAMP = Number(args.ramp);
const RESIDUAL_W = Number(args['residual-w']);

const guard = new BenchGuard('energy demand response');
console.log(`# ${cpus().length} cores ${cpus()[0]?.model ?? ''}, Node ${process.version}; ${N} miners, cap ${CAP_SHARE * 100} % of site power, ramp ${RAMP} kW/min`);

const fleet = await startSimulator({ miners: N, seed: 7, sites: 1, baseAddress: '127.61.0.1', cacheMs: 0, warmupMs: 200, retuneMs: 200, rebootMs: 600 });
console.log(`# simulator up (${((performance.now()) / 1000).toFixed(1)} s)`);
const dataDir = mkdtempSync(join(tmpdir(), 'bosfleet-bench-dr-'));
const store = openEmbeddedStore({ dataDir, checkpointIntervalMs: 0 });
const config = loadApiConfig({ STORE: 'embedded', DATA_DIR: dataDir, JOBS_CONCURRENCY: '64', MINER_RPC_TIMEOUT_MS: '5000', BOSFLEET_SECRET_KEY: randomBytes(32).toString('base64'), AUTH_MODE: 'none', LOG_LEVEL: 'silent' });
const credentials = new CredentialStore({ inventory: store.inventory, box: new SecretBox(config.BOSFLEET_SECRET_KEY!), defaultUsername: 'root', defaultPassword: 'root' });
const minerPool = new MinerClientPool(credentials, { timeoutMs: config.MINER_RPC_TIMEOUT_MS });
const infra: ApiInfra = { config, log: silentLogger(), store, minerPool, credentials };

const inventory: InventoryMiner[] = fleet.miners.map(m => ({ id: m.id, host: m.host, port: m.port, tenant: m.tenant, site: m.site, credentials: 'default', labels: { rack: m.rack }, source: 'file' }));
await store.inventory.writeResolved(inventory, []);
// what the collector would have written: one real poll of each miner
const snaps: MinerSnapshot[] = [];
await forEachLimit(inventory, 64, async m => {
  const t = new MinerTracker(m);
  t.needDetails = true;
  const r = await pollMiner(t, minerPool.get({ id: m.id, host: m.host, port: m.port, credentials: m.credentials }), { detailsIntervalMs: 0, fallbackHotTempC: 90, lowHashratePct: 90, streamActive: false });
  const now = Date.now();
  if (r.ok) snaps.push({ ref: t.ref, last_seen_ms: now, last_poll_ms: now, consecutive_failures: 0, last_error: null, status: r.result.sample.status, sample: r.result.sample, details: t.details });
});
guard.check(snaps.length === N, `polled ${snaps.length} of ${N} miners`);
await store.state.putSnapshots(snaps);
console.log(`# ${snaps.length} miners polled (${(performance.now() / 1000).toFixed(1)} s)`);

const plane = createControlPlane(infra, { schedules: { enabled: false }, energy: { tickMs: 250, enabled: true } });
await plane.start();
const tenant = fleet.miners[0]!.tenant;
const site = fleet.miners[0]!.site;
const operator: Caller = { sub: 'bench', tenant, roles: ['operator'] };
const sitePowerKw = (): number => fleet.miners.reduce((a, m) => a + fleet.truth(m.id).power_w, 0) / 1000;

await plane.energy.putPolicy(operator, { id: 'dr', selector: { site }, currency: 'USD', strike_price_per_mwh: 1e9, target: { kind: 'cap_kw', cap_kw: 0 }, ramp_kw_per_min: RAMP, residual_power_w: RESIDUAL_W, price_source: { kind: 'none' } });
const before = sitePowerKw();
const cap = Math.round(before * CAP_SHARE);
const t0 = Date.now();
const r = await plane.energy.signal(operator, { id: 'bench-1', site, cap_kw: cap, duration_minutes: 30 }, { policy_id: 'dr' });
const planned = r.plan.windows[0]!.sites[0]!;
const steps = r.plan.steps.filter(s => s.kind === 'curtail');
guard.check(planned.shortfall_kw === 0, `the plan does not reach the cap (short by ${planned.shortfall_kw} kW)`);
// poll the truth until the site is at or under the cap (bounded: plan time + 3 minutes)
const deadline = (planned.reached_at_ms ?? t0) + 300_000;
let reachedMs: number | null = null;
let nextReport = Date.now() + 30_000;
while (Date.now() < deadline) {
  if (Date.now() >= nextReport) {
    nextReport += 30_000;
    console.log(`#   +${((Date.now() - t0) / 1000).toFixed(0)} s: site ${sitePowerKw().toFixed(1)} kW (cap ${cap})`);
  }
  if (sitePowerKw() <= cap) {
    reachedMs = Date.now();
    break;
  }
  await new Promise(res => setTimeout(res, 100));
}
guard.check(reachedMs !== null, 'the site power never reached the cap before the deadline');
const firstStep = steps[0]?.at_ms ?? t0;
const minMinutes = Math.ceil((before - cap) / RAMP);
console.log(`site power before ${before.toFixed(1)} kW, cap ${cap} kW (cut ${(before - cap).toFixed(1)} kW); plan: ${steps.length} curtail step(s), ${planned.miners} miners, ramp minimum ${minMinutes} step(s)`);
console.log(`signal -> first step: ${((firstStep - t0) / 1000).toFixed(1)} s (steps run at whole minutes)`);
console.log(`signal -> plan's last step: ${(((planned.reached_at_ms ?? t0) - t0) / 1000).toFixed(1)} s`);
if (reachedMs !== null) {
  console.log(`signal -> site power at or under the cap (simulator truth): ${((reachedMs - t0) / 1000).toFixed(1)} s; after the last step: ${((reachedMs - (planned.reached_at_ms ?? t0)) / 1000).toFixed(1)} s`);
  console.log(`first step -> cap reached: ${((reachedMs - firstStep) / 1000).toFixed(1)} s vs ramp minimum ${((minMinutes - 1) * 60).toFixed(0)} s + the miners' own ramp-down`);
}
await plane.close({ force: true });
await store.close();
minerPool.closeAll();
await fleet.stop();
rmSync(dataDir, { recursive: true, force: true });
process.exitCode = guard.finish() ? 0 : 1;
