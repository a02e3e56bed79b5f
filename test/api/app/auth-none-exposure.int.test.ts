import { randomUUID } from 'node:crypto';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { describe, expect, inject, it } from 'vitest';
import { startApiServer } from '../../../api/server.ts';
import { ConfigError } from '../../../runtime/config-loader.ts';
import { testConfig } from './helpers.ts';

// Issue 15, security 5: AUTH_MODE=none (every request acts as one fixed caller, admin here) on
// 0.0.0.0 started silently and logged 127.0.0.1. Off loopback it must be refused unless
// AUTH_NONE_ALLOW_REMOTE=true, and the log must name the address actually bound. Real Redis
// and InfluxDB; the refused cases never bind (tests only bind 127.0.0.0/8).

function config(over: Record<string, string> = {}): ReturnType<typeof testConfig> {
  return testConfig({
    REDIS_URL: inject('redisUrl'),
    INFLUX_URL: inject('influxUrl'),
    REDIS_PREFIX: `t_${randomUUID().slice(0, 8)}`,
    AUTH_MODE: 'none',
    AUTH_NONE_ROLE: 'admin',
    ...over,
  });
}

function capture(): { log: pino.Logger; lines: () => Record<string, unknown>[] } {
  const out: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      out.push(chunk.toString());
      cb();
    },
  });
  return {
    log: pino({ level: 'info' }, stream),
    lines: () => out.join('').split('\n').filter(Boolean).map(l => JSON.parse(l) as Record<string, unknown>),
  };
}

describe('AUTH_MODE=none off loopback', () => {
  for (const host of ['0.0.0.0', '::', '192.0.2.10', 'miners.example.com']) {
    it(`host ${host} is refused, naming AUTH_NONE_ALLOW_REMOTE`, async () => {
      const err = await startApiServer(config(), { log: capture().log, host, port: 0, handleSignals: false, env: {} }).then(
        async s => {
          await s.close();
          return null;
        },
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(ConfigError);
      expect((err as Error).message).toMatch(/AUTH_MODE=none/);
      expect((err as Error).message).toMatch(/AUTH_NONE_ALLOW_REMOTE=true/);
      expect((err as Error).message).toContain(host);
    });
  }

  it('API_HOST from the configuration is checked the same way', async () => {
    const err = await startApiServer(config({ API_HOST: '0.0.0.0' }), {
      log: capture().log,
      port: 0,
      handleSignals: false,
      env: {},
    }).then(
      async s => {
        await s.close();
        return null;
      },
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(ConfigError);
  });

  it('on loopback it starts, and the log names the bound address and the open access', async () => {
    const c = capture();
    const server = await startApiServer(config(), { log: c.log, host: '127.0.0.3', port: 0, handleSignals: false, env: {} });
    try {
      const line = c.lines().find(l => l.msg === 'API listening');
      expect(line).toBeDefined();
      const port = new URL(server.url).port;
      expect(line!.listening_on).toEqual([`127.0.0.3:${port}`]);
      expect(line!.auth).toBe('none');
    } finally {
      await server.close();
    }
  });
});
