import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { freePort } from '../../demo/local-services.ts';

// Start and stop as a user expects: Ctrl+C while starting leaves nothing behind, a second
// instance beside a running one says in one line what is in use and how to choose another, and a
// collector that cannot start exits. Each spawns the real CLI with the project's Node.

const CLI = resolve('bin/bos-fleet.ts');
const children: ChildProcess[] = [];
const holders: Server[] = [];

afterEach(async () => {
  for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) process.kill(-c.pid!, 'SIGKILL');
  for (const h of holders.splice(0)) await new Promise(r => h.close(r));
});

function cli(args: string[], o: { cwd?: string; env?: NodeJS.ProcessEnv } = {}) {
  const env: NodeJS.ProcessEnv = { ...process.env, LOG_LEVEL: 'warn', ...o.env };
  for (const k of ['INFLUX_URL', 'REDIS_URL', 'BOSFLEET_STORE', 'BOSFLEET_DATA_DIR']) if (!(o.env && k in o.env)) delete env[k];
  // its own process group, as a terminal's foreground job: Ctrl+C is a SIGINT to the group
  const child = spawn(process.execPath, [CLI, ...args], { cwd: o.cwd ?? mkdtempSync(join(tmpdir(), 'startstop-')), env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  children.push(child);
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', d => (stdout += String(d)));
  child.stderr!.on('data', d => (stderr += String(d)));
  const exited = new Promise<number | null>(r => child.once('exit', code => r(code)));
  return { child, exited, out: () => stdout, err: () => stderr };
}

async function hold(host: string, port: number): Promise<Server> {
  const s = createServer();
  await new Promise<void>((r, j) => (s.once('error', j), s.listen(port, host, r)));
  holders.push(s);
  return s;
}

/** processes whose command line mentions `text` (the child's temp folders) */
function processesMentioning(text: string): string[] {
  const out: string[] = [];
  for (const pid of readdirSync('/proc').filter(p => /^\d+$/.test(p))) {
    try {
      const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ');
      if (cmd.includes(text)) out.push(`${pid}: ${cmd}`);
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

const errorLines = (stderr: string): string[] => stderr.split('\n').filter(l => l.trim() !== '');

describe('start and stop', () => {
  it('the collector with Redis down and its metrics port taken prints one line and exits 1', async () => {
    const taken = await freePort();
    await hold('127.0.0.1', taken);
    const deadRedis = await freePort();
    const r = cli(['collector', '--metrics-port', String(taken)], { env: { REDIS_URL: `redis://127.0.0.1:${deadRedis}`, INFLUX_URL: `http://127.0.0.1:${await freePort()}`, LOG_LEVEL: 'info' } });
    const code = await Promise.race([r.exited, new Promise<'hung'>(res => setTimeout(() => res('hung'), 30_000))]);
    expect(code, r.err()).toBe(1);
    expect(errorLines(r.err()), r.err()).toEqual([
      `bos-fleet: the collector metrics server cannot listen on 127.0.0.1:${taken}: the port is in use. Stop what holds it, or choose another port with COLLECTOR_HTTP_HOST / COLLECTOR_HTTP_PORT (0 picks a free one).`,
    ]);
  }, 40_000);

  it('Ctrl+C while the influx-redis demo starts leaves no influxd, redis-server or temp folder', async () => {
    const tmp = mkdtempSync(join(tmpdir(), 'startstop-tmp-'));
    const r = cli(['demo', '--store', 'influx-redis', '--json', '--miners', '4', '--port', String(await freePort()), '--metrics-port', String(await freePort()), '--fleet-address', '127.79.0.1'], { env: { TMPDIR: tmp } });
    // the moment a local server has its temp folder: the demo is in the middle of starting
    await expect.poll(() => readdirSync(tmp).filter(f => f.startsWith('bosfleet-')).length, { timeout: 30_000, interval: 20 }).toBeGreaterThan(0);
    process.kill(-r.child.pid!, 'SIGINT');
    const code = await r.exited;
    expect([0, 130], r.err()).toContain(code);
    expect(readdirSync(tmp).filter(f => f.startsWith('bosfleet-')), r.err()).toEqual([]);
    expect(processesMentioning(tmp)).toEqual([]);
  }, 60_000);

  it('Ctrl+C while the embedded demo starts releases the data folder', async () => {
    const cwd = mkdtempSync(join(tmpdir(), 'startstop-'));
    const r = cli(['demo', '--json', '--miners', '4', '--port', String(await freePort()), '--metrics-port', String(await freePort()), '--fleet-address', '127.79.0.1'], { cwd });
    const lock = join(cwd, '.data', 'demo', 'bos-fleet.lock');
    await expect.poll(() => existsSync(lock), { timeout: 30_000, interval: 20 }).toBe(true);
    process.kill(-r.child.pid!, 'SIGINT');
    const code = await r.exited;
    expect([0, 130], r.err()).toContain(code);
    expect(existsSync(lock)).toBe(false);
  }, 60_000);

  it('a second demo on the same data folder says which folder is in use and how to choose another, exit 1', async () => {
    const cwd = mkdtempSync(join(tmpdir(), 'startstop-'));
    const first = cli(['demo', '--json', '--miners', '4', '--port', String(await freePort()), '--metrics-port', String(await freePort()), '--fleet-address', '127.79.0.1'], { cwd });
    await expect.poll(() => existsSync(join(cwd, '.data', 'demo', 'bos-fleet.lock')), { timeout: 30_000, interval: 20 }).toBe(true);
    const second = cli(['demo', '--json', '--miners', '4', '--port', String(await freePort()), '--metrics-port', String(await freePort()), '--fleet-address', '127.80.0.1'], { cwd });
    expect(await second.exited, second.err()).toBe(1);
    const lines = errorLines(second.err());
    expect(lines, second.err()).toHaveLength(1);
    expect(lines[0]).toMatch(new RegExp(`data folder .*\\.data/demo is in use by another bos-fleet process \\(pid ${first.child.pid}\\).*--data-dir`));
    process.kill(-first.child.pid!, 'SIGINT');
    await first.exited;
  }, 60_000);

  it('a demo whose simulated fleet address is taken says so in one line, exit 1, before starting any server', async () => {
    await hold('127.81.0.1', 50_051);
    const tmp = mkdtempSync(join(tmpdir(), 'startstop-tmp-'));
    const r = cli(['demo', '--store', 'influx-redis', '--json', '--fleet-address', '127.81.0.1', '--port', String(await freePort()), '--metrics-port', String(await freePort())], { env: { TMPDIR: tmp } });
    expect(await r.exited, r.err()).toBe(1);
    expect(errorLines(r.err()), r.err()).toEqual([
      'bos-fleet: the simulated fleet cannot listen on 127.81.0.1:50051: in use (another demo running?). Stop it, or choose other addresses with --fleet-address (e.g. 127.78.0.1).',
    ]);
    expect(readdirSync(tmp)).toEqual([]);
  }, 30_000);

  it('start refuses a second process on the same data folder with one line, exit 1', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'startstop-data-'));
    const first = cli(['demo', '--json', '--miners', '2', '--data-dir', dataDir, '--port', String(await freePort()), '--metrics-port', String(await freePort()), '--fleet-address', '127.82.0.1']);
    await expect.poll(() => existsSync(join(dataDir, 'bos-fleet.lock')), { timeout: 30_000, interval: 20 }).toBe(true);
    const second = cli(['start', '--data-dir', dataDir, '--port', String(await freePort()), '--metrics-port', String(await freePort())]);
    expect(await second.exited, second.err()).toBe(1);
    const lines = errorLines(second.err());
    expect(lines, second.err()).toHaveLength(1);
    expect(lines[0]).toContain(`data folder ${dataDir} is in use by another bos-fleet process (pid ${first.child.pid}); stop it, or start this one with --data-dir`);
    process.kill(-first.child.pid!, 'SIGINT');
    await first.exited;
  }, 60_000);
});
