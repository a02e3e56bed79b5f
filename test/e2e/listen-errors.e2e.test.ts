import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:net';
import { resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';

// A port already taken is a common first-run problem. Each component must say which port and
// which setting to change, without a stack trace, and exit: polling or Redis connections left
// running after the failed listen used to keep the process alive.
let holder: Server;
let port: number;

beforeAll(async () => {
  holder = createServer();
  await new Promise<void>(r => holder.listen(0, '127.0.0.1', r));
  port = (holder.address() as { port: number }).port;
});

afterAll(async () => {
  await new Promise(r => holder.close(r));
});

async function run(
  command: string,
  env: Record<string, string>,
): Promise<{ code: number | null; stderr: string; ms: number }> {
  const started = Date.now();
  const child = spawn(process.execPath, [resolve('bin/bos-fleet.ts'), command], {
    env: {
      ...process.env,
      INFLUX_URL: inject('influxUrl'),
      REDIS_URL: inject('redisUrl'),
      INFLUX_DB: `t_${randomUUID().slice(0, 8)}`,
      REDIS_PREFIX: `t-${randomUUID().slice(0, 8)}`,
      LOG_LEVEL: 'error',
      ...env,
    },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', d => (stderr += String(d)));
  const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
  const code = await new Promise<number | null>(r => child.once('exit', c => r(c)));
  clearTimeout(timer);
  return { code, stderr, ms: Date.now() - started };
}

describe('a port already in use', () => {
  it('the collector names its metrics port and the settings, and exits 1', async () => {
    const r = await run('collector', { COLLECTOR_HTTP_PORT: String(port) });
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr).toContain(
      `the collector metrics server cannot listen on 127.0.0.1:${port}: the port is in use`,
    );
    expect(r.stderr).toContain('COLLECTOR_HTTP_PORT');
    expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace
  });

  it('the API names its port and the settings, and exits 1', async () => {
    const r = await run('api', { API_PORT: String(port), AUTH_MODE: 'none' });
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr).toContain(`the API cannot listen on 127.0.0.1:${port}: the port is in use`);
    expect(r.stderr).toContain('API_PORT');
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });
});
