// The ceiling for bench/collector: the same telemetry RPCs to the same simulator with a bare
// grpc-js loop (one channel per miner, login once, bounded concurrency, spread over the
// interval), and nothing else: no normalisation, no storage. Prints one JSON result line.
import { readFileSync } from 'node:fs';
import * as grpc from '@grpc/grpc-js';
import PQueue from 'p-queue';
import { parse } from 'yaml';
import { bosServices } from '../../proto/loader.ts';

// slice "k/n": this process polls every n-th miner from the k-th (one socket per miner, and
// the descriptor limit here is 20,000: 20,000 miners need two processes)
const [inventoryPath, durationText, intervalText, concurrencyText, sliceText = '0/1'] = process.argv.slice(2);
const durationMs = Number(durationText ?? 60_000);
const intervalMs = Number(intervalText ?? 10_000);
const [sliceK, sliceN] = sliceText.split('/').map(Number) as [number, number];
if (!(sliceN >= 1 && sliceK >= 0 && sliceK < sliceN)) throw new Error(`slice ${sliceText}: expected k/n with 0 <= k < n`);
const inv = parse(readFileSync(inventoryPath!, 'utf8')) as { miners: { address: string; port?: number }[] };
inv.miners = inv.miners.filter((_, i) => i % sliceN === sliceK);
const s = bosServices();
const RPCS: [keyof typeof s, string][] = [['MinerService', 'GetMinerStats'], ['MinerService', 'GetHashboards'], ['CoolingService', 'GetCoolingState'], ['PerformanceService', 'GetTunerState'], ['PoolService', 'GetPoolGroups']];

interface Miner { client: grpc.Client; md: grpc.Metadata; inFlight: boolean }
const miners: Miner[] = inv.miners.map(m => ({ client: new grpc.Client(`${m.address}:${m.port ?? 50051}`, grpc.credentials.createInsecure(), { 'grpc.use_local_subchannel_pool': 1 }), md: new grpc.Metadata(), inFlight: false }));
const def = (svc: keyof typeof s, method: string) => (s[svc].service as unknown as Record<string, grpc.MethodDefinition<unknown, unknown>>)[method]!;
const unary = (m: Miner, d: grpc.MethodDefinition<unknown, unknown>, req: unknown, md = m.md): Promise<unknown> =>
  new Promise((res, rej) => m.client.makeUnaryRequest(d.path, d.requestSerialize, d.responseDeserialize, req, md, { deadline: Date.now() + 5_000 }, (e, v) => (e ? rej(e) : res(v))));

const queue = new PQueue({ concurrency: Number(concurrencyText ?? 256) });
const login = def('AuthenticationService', 'Login');
// Counted, not thrown: the bench refuses its figures when a login failed (BenchGuard).
let loginsFailed = 0;
await Promise.all(miners.map(m => queue.add(async () => {
  for (let attempt = 0; ; attempt++) {
    try {
      const r = (await unary(m, login, { username: 'root', password: 'root' }, new grpc.Metadata())) as { token: string };
      m.md.set('authorization', r.token);
      return;
    } catch (err) {
      if (attempt >= 5) {
        loginsFailed++;
        process.stderr.write(`bare loop: login failed: ${(err as Error).message}\n`);
        return;
      }
      await new Promise(res => setTimeout(res, 500 * (attempt + 1)));
    }
  }
})));

let polls = 0;
let errors = 0;
let skipped = 0;
const latencies: number[] = [];
const started = Date.now();
const timers: NodeJS.Timeout[] = [];
miners.forEach((m, i) => {
  const phase = (i / miners.length) * intervalMs;
  const fire = (): void => {
    if (Date.now() - started > durationMs) return;
    if (m.inFlight) { skipped++; return; }
    m.inFlight = true;
    void queue.add(async () => {
      const t0 = performance.now();
      try {
        await Promise.all(RPCS.map(([svc, method]) => unary(m, def(svc, method), {})));
        polls++;
        latencies.push(performance.now() - t0);
      } catch {
        errors++;
      } finally {
        m.inFlight = false;
      }
    });
  };
  timers.push(setTimeout(() => { fire(); timers.push(setInterval(fire, intervalMs)); }, phase));
});
await new Promise(r => setTimeout(r, durationMs));
for (const t of timers) { clearTimeout(t); clearInterval(t); }
await queue.onIdle();
latencies.sort((a, b) => a - b);
const p = (q: number) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? 0;
process.stdout.write(JSON.stringify({ event: 'result', polls, errors, logins_failed: loginsFailed, skipped, polls_per_s: polls / (durationMs / 1000), p50_ms: p(0.5), p99_ms: p(0.99) }) + '\n');
for (const m of miners) m.client.close();
