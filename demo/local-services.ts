import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * Starts Debian's influxd / redis-server on loopback with temp dirs, for tests and the
 * one-command demo on machines without a container engine. Each service can be stopped
 * and started again on the same port and data dir (outage tests).
 */
export interface LocalService {
  readonly name: 'influxdb' | 'redis';
  readonly url: string;
  readonly port: number;
  readonly dataDir: string;
  start(): Promise<void>;
  stop(): Promise<void>;
  /** stop and remove the data dir */
  destroy(): Promise<void>;
  readonly running: boolean;
  /** the server's process id while it runs (benchmarks read its CPU from /proc) */
  readonly pid: number | undefined;
}

export interface LocalServiceOptions {
  /**
   * Run the server in its own process group. A terminal's Ctrl+C then reaches only bos-fleet,
   * which stops the server after the collector has flushed to it (the demo); otherwise the
   * server dies with the same signal and the collector's final flush waits out its timeout.
   */
  ownProcessGroup?: boolean;
  /** abandon the start (Ctrl+C): the server is stopped and its folder removed, and start rejects */
  signal?: AbortSignal;
}

// Servers still running when this process exits (a crash, a second Ctrl+C) are killed with it,
// and their temporary data folders removed.
const live = new Map<ChildProcess, string>();
let exitHook = false;
function track(p: ChildProcess, dataDir: string): void {
  live.set(p, dataDir);
  p.once('exit', () => live.delete(p));
  if (exitHook) return;
  exitHook = true;
  process.once('exit', () => {
    for (const [c, dir] of live) {
      c.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    }
  });
}

export class MissingBinaryError extends Error {
  constructor(binary: string, pkg: string) {
    super(
      `${binary} is not installed. Install it (Debian: apt-get install -y ${pkg}) or point the ` +
        `${binary === 'influxd' ? 'INFLUX_URL' : 'REDIS_URL'} environment variable at a running server.`,
    );
    this.name = 'MissingBinaryError';
  }
}

export function hasBinary(binary: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${binary}`], { stdio: 'ignore' }).status === 0;
}

export async function freePort(host = '127.0.0.1'): Promise<number> {
  return await new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, host, () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

const sleep = (ms: number): Promise<void> => new Promise(r => setTimeout(r, ms));

async function waitFor(check: () => Promise<boolean>, what: string, timeoutMs: number, proc: () => ChildProcess | null, log: () => string, signal?: AbortSignal): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (signal?.aborted) throw new Error(`${what}: start interrupted`);
    const p = proc();
    if (p && (p.exitCode !== null || p.signalCode !== null)) throw new Error(`${what} exited (${p.exitCode ?? p.signalCode}) during start:\n${log()}`);
    if (await check().catch(() => false)) return;
    await sleep(100);
  }
  throw new Error(`${what} did not become ready within ${timeoutMs} ms:\n${log()}`);
}

async function stopProcess(p: ChildProcess | null): Promise<void> {
  if (!p || p.exitCode !== null || p.signalCode !== null) return;
  const exited = new Promise<void>(resolve => p.once('exit', () => resolve()));
  p.kill('SIGTERM');
  const timer = setTimeout(() => p.kill('SIGKILL'), 5_000);
  await exited;
  clearTimeout(timer);
}

abstract class SpawnedService implements LocalService {
  abstract readonly name: 'influxdb' | 'redis';
  abstract readonly url: string;
  readonly port: number;
  readonly dataDir: string;
  protected proc: ChildProcess | null = null;
  protected output = '';

  private readonly ownProcessGroup: boolean;
  private readonly signal: AbortSignal | undefined;

  constructor(port: number, dataDir: string, o: LocalServiceOptions) {
    this.port = port;
    this.dataDir = dataDir;
    this.ownProcessGroup = o.ownProcessGroup === true;
    this.signal = o.signal;
  }

  get pid(): number | undefined {
    return this.running ? this.proc?.pid : undefined;
  }

  get running(): boolean {
    return this.proc !== null && this.proc.exitCode === null && this.proc.signalCode === null;
  }

  protected abstract command(): { bin: string; args: string[] };
  protected abstract ready(): Promise<boolean>;

  async start(): Promise<void> {
    if (this.running) return;
    const { bin, args } = this.command();
    this.output = '';
    const p = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'], detached: this.ownProcessGroup });
    track(p, this.dataDir);
    const keep = (b: Buffer): void => {
      this.output = (this.output + b.toString()).slice(-4_000);
    };
    p.stdout?.on('data', keep);
    p.stderr?.on('data', keep);
    this.proc = p;
    try {
      await waitFor(() => this.ready(), this.name, 30_000, () => this.proc, () => this.output, this.signal);
    } catch (err) {
      // A server that never became ready is not handed to anyone who would stop it: stop it here.
      await this.destroy();
      throw err;
    }
  }

  async stop(): Promise<void> {
    await stopProcess(this.proc);
    this.proc = null;
  }

  async destroy(): Promise<void> {
    await this.stop();
    rmSync(this.dataDir, { recursive: true, force: true });
  }
}

class InfluxService extends SpawnedService {
  readonly name = 'influxdb' as const;
  readonly url: string;
  private readonly configPath: string;

  constructor(port: number, rpcPort: number, dataDir: string, o: LocalServiceOptions) {
    super(port, dataDir, o);
    this.url = `http://127.0.0.1:${port}`;
    this.configPath = join(dataDir, 'influxdb.conf');
    writeFileSync(
      this.configPath,
      [
        'reporting-disabled = true',
        `bind-address = "127.0.0.1:${rpcPort}"`,
        '[meta]',
        `  dir = "${join(dataDir, 'meta')}"`,
        '  logging-enabled = false',
        '[data]',
        `  dir = "${join(dataDir, 'data')}"`,
        `  wal-dir = "${join(dataDir, 'wal')}"`,
        '  query-log-enabled = false',
        '  trace-logging-enabled = false',
        '[monitor]',
        '  store-enabled = false',
        '[http]',
        `  bind-address = "127.0.0.1:${port}"`,
        '  log-enabled = false',
        '  max-body-size = 0',
        '[logging]',
        '  level = "warn"',
        '[continuous_queries]',
        '  enabled = false',
        '',
      ].join('\n'),
    );
  }

  protected command(): { bin: string; args: string[] } {
    return { bin: 'influxd', args: ['-config', this.configPath] };
  }

  protected async ready(): Promise<boolean> {
    const res = await fetch(`${this.url}/ping`, { signal: AbortSignal.timeout(1_000) });
    return res.status === 204;
  }
}

class RedisService extends SpawnedService {
  readonly name = 'redis' as const;
  readonly url: string;

  constructor(port: number, dataDir: string, o: LocalServiceOptions) {
    super(port, dataDir, o);
    this.url = `redis://127.0.0.1:${port}`;
  }

  protected command(): { bin: string; args: string[] } {
    return {
      bin: 'redis-server',
      args: ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', this.dataDir, '--protected-mode', 'yes'],
    };
  }

  protected async ready(): Promise<boolean> {
    const { Socket } = await import('node:net');
    return await new Promise(resolve => {
      const s = new Socket();
      const done = (ok: boolean): void => {
        s.destroy();
        resolve(ok);
      };
      s.setTimeout(1_000, () => done(false));
      s.once('error', () => done(false));
      s.connect(this.port, '127.0.0.1', () => s.write('PING\r\n'));
      s.once('data', d => done(d.toString().startsWith('+PONG')));
    });
  }
}

export async function startLocalInflux(o: LocalServiceOptions = {}): Promise<LocalService> {
  if (!hasBinary('influxd')) throw new MissingBinaryError('influxd', 'influxdb');
  const dir = mkdtempSync(join(tmpdir(), 'bosfleet-influx-'));
  const svc = new InfluxService(await freePort(), await freePort(), dir, o);
  await svc.start();
  return svc;
}

export async function startLocalRedis(o: LocalServiceOptions = {}): Promise<LocalService> {
  if (!hasBinary('redis-server')) throw new MissingBinaryError('redis-server', 'redis-server');
  const dir = mkdtempSync(join(tmpdir(), 'bosfleet-redis-'));
  const svc = new RedisService(await freePort(), dir, o);
  await svc.start();
  return svc;
}
