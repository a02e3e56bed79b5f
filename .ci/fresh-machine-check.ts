import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';

// Driven by .ci/fresh-machine-check (PATH without influxd/redis-server). Exits non-zero with the
// reason and the demo's stderr when a step fails.
const freePort = (): Promise<number> =>
  new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });

async function until<T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe().catch((err: unknown) => {
      if ((err as Error).message.startsWith('npm start exited')) throw err;
      return undefined;
    });
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await new Promise(r => setTimeout(r, 250));
  }
}

const dataDir = mkdtempSync(join(tmpdir(), 'fresh-machine-'));
const env = { ...process.env };
for (const k of ['INFLUX_URL', 'REDIS_URL', 'BOSFLEET_STORE', 'BOSFLEET_DATA_DIR']) delete env[k];
env.COLLECTOR_POLL_INTERVAL_MS = '1000';
const child = spawn('npm', ['start', '--', '--json', '--miners', '12', '--data-dir', dataDir, '--port', String(await freePort()), '--metrics-port', String(await freePort()), '--fleet-address', '127.76.0.1'], { env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
let stderr = '';
child.stderr!.on('data', d => (stderr = (stderr + String(d)).slice(-6_000)));
const events: Record<string, unknown>[] = [];
createInterface({ input: child.stdout! }).on('line', l => {
  if (l.startsWith('{')) events.push(JSON.parse(l) as Record<string, unknown>);
});
const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>(r => child.once('exit', (code, signal) => r({ code, signal })));

let failed: unknown = null;
try {
  const ready = await until('the demo printed its ready line', 120_000, async () => {
    if (child.exitCode !== null) throw new Error(`npm start exited ${child.exitCode} before it was ready`);
    return events.find(e => e.event === 'ready') as { api: string; mcp: string; token: string; store: string } | undefined;
  });
  if (ready.store !== 'embedded') throw new Error(`the demo runs on ${ready.store}, expected embedded`);
  const headers = { authorization: `Bearer ${ready.token}` };
  const miners = await until('/api/v1/fleet/summary answered miners', 60_000, async () => {
    const body = (await (await fetch(`${ready.api}/api/v1/fleet/summary`, { headers })).json()) as { totals?: { miners?: number; hashrate_ths?: number } };
    return (body.totals?.miners ?? 0) > 0 && (body.totals?.hashrate_ths ?? 0) > 0 ? body.totals!.miners : undefined;
  });
  const client = new Client({ name: 'fresh-machine-check', version: '1.0.0' });
  await client.connect(new StreamableHTTPClientTransport(new URL(ready.mcp), { requestInit: { headers } }));
  const result = await client.callTool({ name: 'fleet_overview', arguments: {} });
  await client.close();
  if (result.isError) throw new Error(`MCP fleet_overview answered an error: ${JSON.stringify(result.content).slice(0, 300)}`);
  console.log(`fresh-machine-check: ${miners} miners in the summary, MCP fleet_overview answered`);
} catch (err) {
  failed = err;
} finally {
  if (child.exitCode === null) process.kill(-child.pid!, 'SIGINT');
  const { code, signal } = await exited;
  // npm itself dies of the SIGINT (as in a terminal); what matters is that the demo under it stops.
  if (!failed && code !== 0 && code !== 130 && signal !== 'SIGINT') failed = new Error(`npm start exited ${code ?? signal} after Ctrl+C`);
  if (!failed) {
    try {
      await until('every process of npm start stopped and the data folder was released', 30_000, async () => {
        const groupAlive = (() => {
          try {
            process.kill(-child.pid!, 0);
            return true;
          } catch {
            return false;
          }
        })();
        return !groupAlive && !existsSync(join(dataDir, 'bos-fleet.lock')) ? true : undefined;
      });
    } catch (err) {
      failed = err;
    }
  }
}
if (failed) {
  console.error(`fresh-machine-check: FAILED: ${(failed as Error).message}\n--- demo stderr ---\n${stderr}`);
  process.exit(1);
}
console.log('fresh-machine-check: ok');
