// Simulator capacity: starts `bos-fleet simulator` with N miners in a child process, then polls
// every miner like the collector does (login once, then every --interval s the telemetry RPCs
// GetMinerStats, GetHashboards, GetCoolingState, GetTunerState, GetPoolGroups together) with
// bounded concurrency for --duration s, and prints RPC/s, latency and the simulator's CPU and RSS
// (from /proc/<pid>). With several --transport values (the simulator's server side) it runs once
// per transport, one after the other, and prints them side by side. Everything stays on
// loopback; the bench stops by itself.
//
//   npm run bench:simulator -- --miners 5000 --duration 40 --transport http2,grpc-js
import { spawn, type ChildProcess } from 'node:child_process';
import http2 from 'node:http2';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

import * as grpc from '@grpc/grpc-js';

import { bosServices, decodeMessage, encodeMessage } from '../../proto/loader.ts';
import type { BosServiceName } from '../../proto/types.ts';
import { isSimulatorTransport, type SimulatorTransport } from '../../simulator/options.ts';
import { BenchGuard } from '../lib/bench-guard.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const CLK_TCK = 100; // Linux USER_HZ

const { values: args } = parseArgs({
  options: {
    miners: { type: 'string', default: '5000' },
    duration: { type: 'string', default: '60' },
    interval: { type: 'string', default: '10' },
    concurrency: { type: 'string', default: '256' },
    'base-address': { type: 'string', default: '127.20.0.1' },
    seed: { type: 'string', default: 'bench' },
    // grpc-js: the collector's client library (realistic, but costs more CPU than the simulator);
    // http2: a minimal gRPC-over-HTTP/2 client, so the simulator rather than the load generator
    // is what runs out of CPU on a small machine.
    client: { type: 'string', default: 'grpc-js' },
    // the simulator's server side: http2 (node:http2, the default) and/or grpc-js, comma-separated
    transport: { type: 'string', default: 'http2,grpc-js' },
  },
});
const N = Number(args.miners);
const DURATION_MS = Number(args.duration) * 1000;
const INTERVAL_MS = Number(args.interval) * 1000;
const CONCURRENCY = Number(args.concurrency);
if (args.client !== 'grpc-js' && args.client !== 'http2')
  throw new Error('--client must be grpc-js or http2');
const TRANSPORTS = args.transport.split(',').map(t => t.trim());
for (const t of TRANSPORTS)
  if (!isSimulatorTransport(t)) throw new Error(`--transport takes http2 and/or grpc-js (comma-separated), got '${t}'`);

const TELEMETRY: Array<[BosServiceName, string]> = [
  ['MinerService', 'GetMinerStats'],
  ['MinerService', 'GetHashboards'],
  ['CoolingService', 'GetCoolingState'],
  ['PerformanceService', 'GetTunerState'],
  ['PoolService', 'GetPoolGroups'],
];

const out = (line = ''): boolean => process.stdout.write(`${line}\n`);

interface ProcSample {
  ticks: number;
  rssMb: number;
  at: number;
}

async function procSample(pid: number): Promise<ProcSample> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(fields[11]) + Number(fields[12]); // utime + stime (fields 14, 15)
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const rssKb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
  return { ticks, rssMb: rssKb / 1024, at: performance.now() };
}

function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number;
}

/** One miner connection: log in once, then make telemetry calls (empty requests). */
interface Transport {
  polls: number;
  login(): Promise<void>;
  call(service: BosServiceName, method: string): Promise<void>;
  close(): void;
}

type GrpcJsClient = grpc.Client &
  Record<
    string,
    (
      req: object,
      md: grpc.Metadata,
      opts: grpc.CallOptions,
      cb: (err: grpc.ServiceError | null, res: unknown) => void,
    ) => grpc.ClientUnaryCall
  >;

class GrpcJsTransport implements Transport {
  polls = 0;
  private readonly channel: grpc.Channel;
  private readonly clients = new Map<BosServiceName, GrpcJsClient>();
  private md = new grpc.Metadata();

  constructor(address: string) {
    const services = bosServices();
    this.channel = new grpc.Channel(address, grpc.credentials.createInsecure(), {});
    for (const name of [
      'AuthenticationService',
      'MinerService',
      'CoolingService',
      'PerformanceService',
      'PoolService',
    ] as const) {
      const client = new services[name](address, grpc.credentials.createInsecure(), {
        channelOverride: this.channel,
      });
      this.clients.set(name, client as unknown as GrpcJsClient);
    }
  }

  private unary(service: BosServiceName, method: string, req: object, md: grpc.Metadata): Promise<unknown> {
    return new Promise((resolve, reject) => {
      const c = this.clients.get(service)!;
      c[method]!.call(c, req, md, { deadline: Date.now() + 10_000 }, (err, res) =>
        err ? reject(err) : resolve(res),
      );
    });
  }

  async login(): Promise<void> {
    const res = (await this.unary(
      'AuthenticationService',
      'Login',
      { username: 'root', password: 'root' },
      new grpc.Metadata(),
    )) as { token: string };
    this.md = new grpc.Metadata();
    this.md.set('authorization', res.token);
  }

  async call(service: BosServiceName, method: string): Promise<void> {
    await this.unary(service, method, {}, this.md);
  }

  close(): void {
    for (const c of this.clients.values()) c.close();
    this.channel.close();
  }
}

const SERVICE_PATHS: Record<string, string> = {
  AuthenticationService: 'braiins.bos.v1.AuthenticationService',
  MinerService: 'braiins.bos.v1.MinerService',
  CoolingService: 'braiins.bos.v1.CoolingService',
  PerformanceService: 'braiins.bos.v1.PerformanceService',
  PoolService: 'braiins.bos.v1.PoolService',
};

/** gRPC over one node:http2 session: length-prefixed messages, status from the trailers. */
class Http2Transport implements Transport {
  polls = 0;
  private readonly session: http2.ClientHttp2Session;
  private token = '';

  constructor(address: string) {
    this.session = http2.connect(`http://${address}`);
    this.session.on('error', () => undefined);
  }

  private request(service: BosServiceName, method: string, body: Uint8Array): Promise<Buffer> {
    return new Promise((resolve, reject) => {
      const frame = Buffer.alloc(5 + body.length);
      frame.writeUInt32BE(body.length, 1);
      frame.set(body, 5);
      const req = this.session.request({
        ':method': 'POST',
        ':path': `/${SERVICE_PATHS[service]}/${method}`,
        'content-type': 'application/grpc',
        te: 'trailers',
        'grpc-timeout': '10S',
        ...(this.token ? { authorization: this.token } : {}),
      });
      const chunks: Buffer[] = [];
      let status: string | undefined;
      req.on('response', headers => {
        if (headers['grpc-status'] !== undefined) status = String(headers['grpc-status']);
      });
      req.on('trailers', trailers => {
        status = String(trailers['grpc-status']);
      });
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('error', reject);
      req.on('end', () => {
        if (status === '0') resolve(Buffer.concat(chunks));
        else reject(Object.assign(new Error(`grpc-status ${status}`), { code: Number(status) }));
      });
      req.end(frame);
    });
  }

  async login(): Promise<void> {
    const res = await this.request(
      'AuthenticationService',
      'Login',
      encodeMessage('LoginRequest', { username: 'root', password: 'root' }),
    );
    this.token = decodeMessage<{ token: string }>('LoginResponse', res.subarray(5)).token;
  }

  async call(service: BosServiceName, method: string): Promise<void> {
    await this.request(service, method, new Uint8Array(0));
  }

  close(): void {
    this.session.close();
  }
}

async function startSimulatorProcess(
  dir: string,
  transport: SimulatorTransport,
): Promise<{ child: ChildProcess; ready: Record<string, unknown>; inventory: string }> {
  const inventory = path.join(dir, 'inventory.json');
  const child = spawn(
    process.execPath,
    [
      path.join(ROOT, 'bin/bos-fleet.ts'),
      'simulator',
      '--miners',
      String(N),
      '--json',
      '--seed',
      args.seed,
      '--base-address',
      args['base-address'],
      '--inventory-out',
      inventory,
      '--transport',
      transport,
    ],
    { cwd: ROOT, env: { ...process.env, LOG_LEVEL: 'warn' }, stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const lines = createInterface({ input: child.stdout! });
  const first = await new Promise<string>((resolve, reject) => {
    lines.once('line', resolve);
    child.once('exit', code => reject(new Error(`simulator exited early with code ${code}`)));
  });
  return { child, ready: JSON.parse(first) as Record<string, unknown>, inventory };
}

/** The figures of one run, for the side-by-side table. */
interface RunResult {
  transport: SimulatorTransport;
  ok: number;
  failed: number;
  rpcPerS: number;
  p50Ms: number;
  p99Ms: number;
  simCpuPct: number;
  simUsPerRpc: number;
  rssMb: number;
  benchCpuPct: number;
}

async function measure(transport: SimulatorTransport, guard: BenchGuard): Promise<RunResult> {
  const loadBefore = os.loadavg();
  const dir = await mkdtemp(path.join(os.tmpdir(), 'bosfleet-bench-'));
  const t0 = performance.now();
  const { child, ready, inventory } = await startSimulatorProcess(dir, transport);
  const startupMs = performance.now() - t0;
  const pid = child.pid!;
  const kill = (): void => {
    if (child.exitCode === null) child.kill('SIGKILL');
  };
  process.on('exit', kill);
  try {
    const inv = JSON.parse(await readFile(inventory, 'utf8')) as {
      miners: Array<{ address: string; port: number }>;
    };
    const idle = await procSample(pid);
    out();
    out(
      `Simulator capacity: ${N} miners, poll every ${INTERVAL_MS / 1000} s, ${DURATION_MS / 1000} s of load, concurrency ${CONCURRENCY}, ${args.client} client, simulator transport ${transport}`,
    );
    out(
      `  simulator pid ${pid} ready in ${(startupMs / 1000).toFixed(1)} s (${String(ready.first_address)} … ${String(ready.last_address)}), idle RSS ${idle.rssMb.toFixed(0)} MB`,
    );

    const conns: Transport[] = inv.miners.map(m =>
      args.client === 'http2'
        ? new Http2Transport(`${m.address}:${m.port}`)
        : new GrpcJsTransport(`${m.address}:${m.port}`),
    );

    // Login once per miner (bounded concurrency).
    const tLogin = performance.now();
    let loginFailures = 0;
    let next = 0;
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (next < conns.length) {
          const c = conns[next++]!;
          try {
            await c.login();
          } catch {
            loginFailures++;
          }
        }
      }),
    );
    const loginMs = performance.now() - tLogin;
    guard.check(loginFailures === 0, `${transport}: ${loginFailures} of ${N} logins failed`);
    out(
      `  login          ${N - loginFailures}/${N} miners in ${(loginMs / 1000).toFixed(1)} s (${Math.round(N / (loginMs / 1000))} logins/s, connections included)`,
    );

    // Load: poll k is miner k % N in cycle floor(k / N), due at start + cycle·interval + (k % N)·interval/N.
    const latencies: number[] = [];
    const perRpc = new Map<string, number[]>(TELEMETRY.map(([, m]) => [m, []]));
    let ok = 0;
    let failed = 0;
    let late = 0;
    let inflight = 0;
    const waiting: number[] = [];
    const errors = new Map<string, number>();
    const start = performance.now();
    const end = start + DURATION_MS;
    let k = 0;
    const before = await procSample(pid);
    const cpuBefore = process.cpuUsage();
    let maxRss = before.rssMb;
    const rssTimer = setInterval(() => {
      procSample(pid).then(
        s => (maxRss = Math.max(maxRss, s.rssMb)),
        () => undefined,
      );
    }, 2_000);

    const poll = async (index: number, due: number): Promise<void> => {
      inflight++;
      if (performance.now() - due > 1_000) late++;
      const c = conns[index % N]!;
      await Promise.all(
        TELEMETRY.map(async ([svc, method]) => {
          const t = performance.now();
          try {
            await c.call(svc, method);
            const ms = performance.now() - t;
            latencies.push(ms);
            perRpc.get(method)!.push(ms);
            ok++;
          } catch (err) {
            failed++;
            const key = grpc.status[(err as grpc.ServiceError).code] ?? String(err);
            errors.set(key, (errors.get(key) ?? 0) + 1);
          }
        }),
      );
      c.polls++;
      inflight--;
      const w = waiting.shift();
      if (w !== undefined) void poll(w, dueOf(w));
    };
    const dueOf = (kk: number): number =>
      start + Math.floor(kk / N) * INTERVAL_MS + ((kk % N) * INTERVAL_MS) / N;

    await new Promise<void>(resolve => {
      const tick = setInterval(() => {
        const now = performance.now();
        while (dueOf(k) <= now && dueOf(k) < end) {
          if (inflight < CONCURRENCY) void poll(k, dueOf(k));
          else waiting.push(k);
          k++;
        }
        if (now >= end) {
          clearInterval(tick);
          resolve();
        }
      }, 20);
    });
    // let in-flight polls finish (bounded)
    const drainUntil = performance.now() + 15_000;
    while ((inflight > 0 || waiting.length > 0) && performance.now() < drainUntil)
      await new Promise(r => setTimeout(r, 50));
    const after = await procSample(pid);
    clearInterval(rssTimer);
    const cpu = process.cpuUsage(cpuBefore);
    const wallS = (after.at - before.at) / 1000;
    const simCpuPct = ((after.ticks - before.ticks) / CLK_TCK / wallS) * 100;
    const benchCpuPct = ((cpu.user + cpu.system) / 1e6 / wallS) * 100;
    const sorted = Float64Array.from(latencies).sort();
    const served = conns.filter(c => c.polls > 0).length;

    out(`  miners served  ${served}/${N} (polled at least once), ${k} polls, ${late} started > 1 s late`);
    out(
      `  RPCs           ${ok} ok, ${failed} failed${errors.size ? ` (${[...errors].map(([e, n]) => `${e} ${n}`).join(', ')})` : ''}`,
    );
    const offered = (N * TELEMETRY.length) / (INTERVAL_MS / 1000);
    out(
      `  throughput     ${Math.round(ok / wallS)} RPC/s achieved over ${wallS.toFixed(1)} s (offered ${Math.round(offered)} RPC/s)`,
    );
    out(
      `  latency        p50 ${percentile(sorted, 50).toFixed(1)} ms, p99 ${percentile(sorted, 99).toFixed(1)} ms, max ${percentile(sorted, 100).toFixed(1)} ms`,
    );
    for (const [method, list] of perRpc) {
      const s = Float64Array.from(list).sort();
      out(
        `    ${method.padEnd(16)} p50 ${percentile(s, 50).toFixed(1)} ms, p99 ${percentile(s, 99).toFixed(1)} ms`,
      );
    }
    out(
      `  simulator      CPU ${simCpuPct.toFixed(1)} % of one core (avg over the load), RSS ${after.rssMb.toFixed(0)} MB (max ${maxRss.toFixed(0)} MB)`,
    );
    const simUsPerRpc = (((after.ticks - before.ticks) / CLK_TCK) * 1e6) / Math.max(1, ok + failed);
    out(
      `                 ${simUsPerRpc.toFixed(0)} µs of simulator CPU per RPC → ${((offered * simUsPerRpc) / 1e4).toFixed(0)} % of one core at the offered rate`,
    );
    out(`  bench client   CPU ${benchCpuPct.toFixed(1)} % of one core`);
    out(
      `  machine        ${os.cpus().length} cores (${os.cpus()[0]?.model ?? 'unknown'}), ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}`,
    );
    out(
      `  load average   ${loadBefore.map(l => l.toFixed(2)).join(' ')} before, ${os
        .loadavg()
        .map(l => l.toFixed(2))
        .join(' ')} after (other processes on the machine skew latency)`,
    );

    guard.check(served === N, `${transport}: only ${served} of ${N} miners answered a poll`);
    guard.check(failed === 0, `${transport}: ${failed} RPCs failed`);
    guard.check(ok > 0, `${transport}: no RPC succeeded`);
    for (const c of conns) c.close();
    return {
      transport,
      ok,
      failed,
      rpcPerS: ok / wallS,
      p50Ms: percentile(sorted, 50),
      p99Ms: percentile(sorted, 99),
      simCpuPct,
      simUsPerRpc,
      rssMb: after.rssMb,
      benchCpuPct,
    };
  } finally {
    child.kill('SIGTERM');
    await new Promise<void>(resolve => {
      if (child.exitCode !== null) return resolve();
      const t = setTimeout(() => {
        kill();
        resolve();
      }, 10_000);
      child.once('exit', () => {
        clearTimeout(t);
        resolve();
      });
    });
    await rm(dir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const guard = new BenchGuard('simulator capacity');
  const results: RunResult[] = [];
  for (const t of TRANSPORTS) results.push(await measure(t as SimulatorTransport, guard));
  if (!guard.finish()) return;
  if (results.length < 2) return;
  const row = (label: string, f: (r: RunResult) => string): void => {
    out(`  ${label.padEnd(28)}${results.map(r => f(r).padStart(16)).join('')}`);
  };
  out();
  out(`Side by side (${N} miners, ${args.client} client):`);
  row('simulator transport', r => r.transport);
  row('RPCs ok / failed', r => `${r.ok} / ${r.failed}`);
  row('RPC/s achieved', r => r.rpcPerS.toFixed(0));
  row('latency p50 / p99, ms', r => `${r.p50Ms.toFixed(1)} / ${r.p99Ms.toFixed(1)}`);
  row('simulator CPU, % of a core', r => r.simCpuPct.toFixed(1));
  row('simulator CPU per RPC, µs', r => r.simUsPerRpc.toFixed(0));
  row('simulator RSS, MB', r => r.rssMb.toFixed(0));
  row('bench client CPU, % of a core', r => r.benchCpuPct.toFixed(1));
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(
      `bench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
    );
    process.exit(1);
  },
);
