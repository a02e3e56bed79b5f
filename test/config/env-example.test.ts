import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { z } from 'zod';
import { apiConfigSchema } from '../../api/config.ts';
import { parseConfig, ConfigError } from '../../runtime/config-loader.ts';
import { collectorConfigSchema } from '../../collector/config.ts';
import { mcpConfigSchema } from '../../mcp/config.ts';
import { unknownConfigWarnings } from '../../bin/config-keys.ts';

// .env.example is the configuration reference: every schema key is documented there with the
// schema's own default, and nothing is documented that no schema reads.
const schemas: z.ZodObject[] = [collectorConfigSchema, apiConfigSchema, mcpConfigSchema];

function documented(): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of readFileSync(new URL('../../.env.example', import.meta.url), 'utf8').split('\n')) {
    const m = /^#?\s?([A-Z][A-Z0-9_]+)=(.*)$/.exec(line);
    if (m) out.set(m[1]!, m[2]!);
  }
  return out;
}

function defaultsOf(schema: z.ZodObject): Map<string, string> {
  const out = new Map<string, string>();
  for (const [key, field] of Object.entries(schema.shape)) {
    const r = (field as z.ZodType).safeParse(undefined);
    const v = r.success ? r.data : undefined;
    out.set(key, v === undefined ? '' : Array.isArray(v) ? v.join(',') : String(v));
  }
  return out;
}

describe('.env.example', () => {
  const docs = documented();
  for (const schema of schemas) {
    for (const [key, def] of defaultsOf(schema)) {
      it(`documents ${key} with its default`, () => {
        expect(docs.has(key), `${key} missing from .env.example`).toBe(true);
        expect(docs.get(key)).toBe(def);
      });
    }
  }
  it('documents no key that no schema reads', () => {
    const known = new Set(schemas.flatMap(s => Object.keys(s.shape)));
    expect([...docs.keys()].filter(k => !known.has(k))).toEqual([]);
  });
});

describe('config errors', () => {
  it('names the key, the value and what is expected, for every bad key at once', () => {
    try {
      parseConfig(collectorConfigSchema, {
        COLLECTOR_POLL_INTERVAL_MS: 'soon',
        INFLUX_URL: 'not a url',
        INFLUX_PASSWORD: 'hunter2',
        INFLUX_FLAVOUR: '4',
      });
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      const msg = (err as Error).message;
      expect(msg).toContain('COLLECTOR_POLL_INTERVAL_MS="soon": expected an integer');
      expect(msg).toContain('INFLUX_URL="not a url": expected a URL');
      expect(msg).toContain('INFLUX_FLAVOUR="4": expected one of 1, 2, 3');
      expect(msg).not.toContain('hunter2');
    }
  });
});

describe('API_TRUST_PROXY', () => {
  const trust = (v: string) => parseConfig(apiConfigSchema, { API_TRUST_PROXY: v }).API_TRUST_PROXY;
  it('reads off, any hop, a hop count and proxy addresses', () => {
    expect(parseConfig(apiConfigSchema, {}).API_TRUST_PROXY).toBe(false);
    expect(trust('true')).toBe(true);
    expect(trust('2')).toBe(2);
    expect(trust('10.0.0.0/8, 192.168.1.7,loopback,fd00::/8')).toEqual([
      '10.0.0.0/8',
      '192.168.1.7',
      'loopback',
      'fd00::/8',
    ]);
  });
  it('refuses what is none of these, and says what is expected', () => {
    for (const bad of ['yes', '10.0.0.0/33', 'proxy.lan', '0', '10.0.0.1/8/2'])
      expect(() => trust(bad), bad).toThrow(/API_TRUST_PROXY=.*expected false, true, a hop count/);
  });
});

describe('unknown configuration keys', () => {
  it('names a key of ours that nothing reads, with the nearest known key; leaves other variables alone', () => {
    expect(
      unknownConfigWarnings({
        API_TRUST_PROXI: '10.0.0.1',
        COLLECTOR_POLL_INTERVAL_MS: '5000',
        REDIS_URL: 'redis://127.0.0.1:6379',
        INFLUX_SOMETHING_ELSE_ENTIRELY: 'x',
        PATH: '/usr/bin',
        MINER_PASSWORD_SIM_0003: 'secret',
        NODE_OPTIONS: '--max-old-space-size=512',
      }),
    ).toEqual([
      'unknown configuration key API_TRUST_PROXI is ignored; did you mean API_TRUST_PROXY? (see .env.example)',
      'unknown configuration key INFLUX_SOMETHING_ELSE_ENTIRELY is ignored (see .env.example)',
    ]);
  });

  it('bos-fleet warns on stderr before it starts a component', () => {
    const r = spawnSync(
      process.execPath,
      [fileURLToPath(new URL('../../bin/bos-fleet.ts', import.meta.url)), 'collector'],
      {
        env: {
          PATH: process.env.PATH,
          COLLECTOR_POLL_INTERVALL_MS: '5000',
          COLLECTOR_POLL_INTERVAL_MS: 'soon',
        },
        encoding: 'utf8',
        timeout: 30_000,
      },
    );
    expect(r.stderr).toContain(
      'bos-fleet: warning: unknown configuration key COLLECTOR_POLL_INTERVALL_MS is ignored; did you mean COLLECTOR_POLL_INTERVAL_MS?',
    );
    expect(r.stderr).toContain('COLLECTOR_POLL_INTERVAL_MS="soon"');
    expect(r.status).toBe(2);
  });
});
