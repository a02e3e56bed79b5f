// bench/mcp/fair-share: how much one tenant's flood of MCP tool calls slows another tenant.
//
//   node bench/mcp/fair-share.ts --gate 8 --flood-workers 64 --flood-s 15
//   node bench/mcp/fair-share.ts --gate 0 ...          # 0: no per-tenant gate (MCP_TENANT_CONCURRENCY=1000)
//
// The real API server (startApiServer, full extension, JWT auth) on a fresh InfluxDB database
// and Redis prefix. Tenant 'acme' has --miners synthetic miners (test/mcp/seed.ts) and floods
// /mcp with tools/call (fleet_overview, or query_telemetry over 6 h) from --flood-workers
// concurrent loops; tenant 'victim' asks for its fleet summary (REST GET /api/v1/fleet/summary and
// MCP fleet_overview) one request at a time. The rate limit is set high (--rate-limit) so it
// does not hide the flood (a tenant with many tokens, or a large RATE_LIMIT_MAX). Reports the victim's p50 /
// p95 before and during the flood, and what the flood got through.
// Uses INFLUX_URL / REDIS_URL when set, else starts influxd and redis-server on loopback.
import { randomUUID } from 'node:crypto';
import { parseArgs } from 'node:util';
import { SignJWT, exportSPKI, generateKeyPair } from 'jose';
import { loadApiConfig } from '../../api/config.ts';
import { startApiServer } from '../../api/server.ts';
import { fullApiExtension } from '../../api/wiring.ts';
import { createRedis, waitForRedis } from '../../store/influx-redis/redis-connection.ts';
import { redisKeys } from '../../store/influx-redis/redis-keys.ts';
import { silentLogger } from '../../runtime/logger.ts';
import { startLocalInflux, startLocalRedis, type LocalService } from '../../demo/local-services.ts';
import { seedSynthetic, syntheticFleet } from '../../test/mcp/seed.ts';
import { BenchGuard } from '../lib/bench-guard.ts';

const { values } = parseArgs({
  options: {
    gate: { type: 'string', default: '8' },
    queue: { type: 'string', default: '32' },
    miners: { type: 'string', default: '1000' },
    'flood-workers': { type: 'string', default: '64' },
    'flood-s': { type: 'string', default: '15' },
    samples: { type: 'string', default: '60' },
    /** RATE_LIMIT_MAX per caller and minute; default: high, so the limit does not hide the flood */
    'rate-limit': { type: 'string', default: '1000000' },
    /** fleet_overview (Redis, cheap: many calls) or telemetry (query_telemetry over 6 h: InfluxDB-heavy) */
    'flood-tool': { type: 'string', default: 'fleet_overview' },
  },
});
const gate = Number(values.gate);
const FLOOD_WORKERS = Number(values['flood-workers']);
const FLOOD_MS = Number(values['flood-s']) * 1_000;
const SAMPLES = Number(values.samples);

const pct = (xs: number[], p: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? NaN : s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)]!;
};
const r1 = (v: number): number => Math.round(v * 10) / 10;

const guard = new BenchGuard('bench:mcp:fair-share');
const services: LocalService[] = [];
const influxUrl = process.env.INFLUX_URL ?? services[services.push(await startLocalInflux()) - 1]!.url;
const redisUrl = process.env.REDIS_URL ?? services[services.push(await startLocalRedis()) - 1]!.url;
const db = `fairshare_${randomUUID().replaceAll('-', '').slice(0, 12)}`;
const prefix = `bench-fairshare-${randomUUID()}`;
const seedRedis = createRedis(redisUrl, { logger: silentLogger(), name: 'bench-seed' });
if (!(await waitForRedis(seedRedis, 10_000))) throw new Error(`Redis at ${redisUrl} is not reachable`);
await seedSynthetic({
  redis: seedRedis,
  keys: redisKeys(prefix),
  influxUrl,
  db,
  miners: syntheticFleet(Number(values.miners), 'acme'),
  nowMs: Date.now(),
  inventoryAt: { host: '127.0.0.1', port: 9 },
});

const keys = await generateKeyPair('ES256');
const config = loadApiConfig({
  INFLUX_URL: influxUrl,
  INFLUX_DB: db,
  REDIS_URL: redisUrl,
  REDIS_PREFIX: prefix,
  LOG_LEVEL: 'silent',
  AUTH_MODE: 'jwt',
  AUTH_PUBLIC_KEY: await exportSPKI(keys.publicKey),
  RATE_LIMIT_MAX: String(values['rate-limit']),
  MCP_TENANT_CONCURRENCY: gate > 0 ? String(gate) : '1000',
  MCP_TENANT_QUEUE: gate > 0 ? String(values.queue) : '10000',
  API_WINDOW_PRELOAD_HOURS: '0',
});
const server = await startApiServer(config, {
  host: '127.0.0.1',
  port: 0,
  log: silentLogger(),
  handleSignals: false,
  env: { COLLECTOR_POLL_INTERVAL_MS: '60000' },
  extension: fullApiExtension(),
});
const token = (tenant: string, sub: string): Promise<string> =>
  new SignJWT({ tenant, roles: ['viewer'] })
    .setProtectedHeader({ alg: 'ES256' })
    .setSubject(sub)
    .setIssuer('bos-fleet')
    .setAudience('bos-fleet')
    .setIssuedAt()
    .setExpirationTime('1h')
    .sign(keys.privateKey);
const floodJwt = await token('acme', 'flood');
const victimJwt = await token('victim', 'vic');
const mcpHeaders = (jwt: string): Record<string, string> => ({
  'content-type': 'application/json',
  accept: 'application/json, text/event-stream',
  'mcp-protocol-version': '2025-06-18',
  authorization: `Bearer ${jwt}`,
});
const toolCall = (name: string, args: Record<string, unknown>): string =>
  JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name, arguments: args } });

async function timed(label: string, f: () => Promise<Response>): Promise<number> {
  const t0 = performance.now();
  const r = await f();
  const body = await r.text();
  const ms = performance.now() - t0;
  guard.check(r.status === 200, `${label} answered ${r.status}`);
  // an MCP call answers 200 with the failure inside (a JSON-RPC error or a tool error)
  guard.check(!/"isError":true|"error":\{/.test(body), `${label} answered an error: ${body.slice(0, 160)}`);
  return ms;
}
const victimRest = (): Promise<number> =>
  timed('victim REST summary', () => fetch(`${server.url}/api/v1/fleet/summary`, { headers: { authorization: `Bearer ${victimJwt}` } }));
const victimMcp = (): Promise<number> =>
  timed('victim MCP fleet_overview', () => fetch(`${server.url}/mcp`, { method: 'POST', headers: mcpHeaders(victimJwt), body: toolCall('fleet_overview', {}) }));

async function measure(n: number): Promise<{ rest: number[]; mcp: number[] }> {
  const rest: number[] = [];
  const mcp: number[] = [];
  for (let i = 0; i < n; i++) {
    rest.push(await victimRest());
    mcp.push(await victimMcp());
  }
  return { rest, mcp };
}

try {
  await measure(10); // warm-up
  const quiet = await measure(SAMPLES);
  const flood = { ok: 0, refused: 0, other: 0 };
  let stop = false;
  const floodBodies =
    values['flood-tool'] === 'telemetry' ? [toolCall('query_telemetry', { window: '6h' })] : [toolCall('fleet_overview', {})];
  const worker = async (w: number): Promise<void> => {
    for (let i = w; !stop; i++) {
      const r = await fetch(`${server.url}/mcp`, { method: 'POST', headers: mcpHeaders(floodJwt), body: floodBodies[i % floodBodies.length]! }).catch(() => null);
      if (r) await r.arrayBuffer();
      if (r?.status === 200) flood.ok++;
      else if (r?.status === 429) flood.refused++;
      else flood.other++;
    }
  };
  const workers = Array.from({ length: FLOOD_WORKERS }, (_, w) => worker(w));
  const t0 = Date.now();
  await new Promise(r => setTimeout(r, 1_000)); // let the flood build up
  const busy: { rest: number[]; mcp: number[] } = { rest: [], mcp: [] };
  while (Date.now() - t0 < FLOOD_MS) {
    const m = await measure(1);
    busy.rest.push(...m.rest);
    busy.mcp.push(...m.mcp);
  }
  stop = true;
  await Promise.all(workers);
  const floodS = (Date.now() - t0) / 1_000;
  guard.check(flood.ok > 0 && flood.other === 0, `flood: ${flood.ok} answered, ${flood.other} failed (neither 200 nor 429)`);
  const row = (label: string, xs: number[]): string => `${label.padEnd(34)} n=${String(xs.length).padStart(4)}  p50 ${String(r1(pct(xs, 50))).padStart(7)} ms  p95 ${String(r1(pct(xs, 95))).padStart(7)} ms`;
  if (guard.ok) process.stdout.write(
    [
      `RATE_LIMIT_MAX=${values['rate-limit']}; gate: ${gate > 0 ? `MCP_TENANT_CONCURRENCY=${gate} MCP_TENANT_QUEUE=${values.queue}` : 'off (1000 / 10000)'}; flood: ${FLOOD_WORKERS} workers of ${values['flood-tool']}, ${r1(floodS)} s, tenant acme with ${values.miners} miners`,
      row('victim REST summary, quiet', quiet.rest),
      row('victim REST summary, under flood', busy.rest),
      row('victim MCP fleet_overview, quiet', quiet.mcp),
      row('victim MCP fleet_overview, flood', busy.mcp),
      `flood: ${flood.ok} answered (${r1(flood.ok / floodS)}/s), ${flood.refused} refused 429, ${flood.other} other`,
      '',
    ].join('\n'),
  );
} finally {
  await server.close();
  const stale = await seedRedis.keys(`${prefix}:*`).catch(() => [] as string[]);
  for (let i = 0; i < stale.length; i += 500) await seedRedis.del(...stale.slice(i, i + 500)).catch(() => undefined);
  await fetch(`${influxUrl}/query?q=${encodeURIComponent(`DROP DATABASE "${db}"`)}`, { method: 'POST' }).catch(() => undefined);
  seedRedis.disconnect();
  for (const s of services) await s.stop();
}
guard.finish();
