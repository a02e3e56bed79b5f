import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';

/** Thrown at start-up when configuration is wrong; lists every bad key at once. */
export class ConfigError extends Error {
  readonly problems: string[];
  constructor(problems: string[]) {
    super(`invalid configuration:\n  - ${problems.join('\n  - ')}`);
    this.name = 'ConfigError';
    this.problems = problems;
  }
}

export type RawConfig = Record<string, string | undefined>;

/**
 * Reads the optional config file named by BOS_FLEET_CONFIG (YAML or JSON, flat keys named
 * like the env variables). Environment variables win over the file.
 */
export function readRawConfig(env: NodeJS.ProcessEnv = process.env, filePath = env.BOS_FLEET_CONFIG): RawConfig {
  const merged: RawConfig = {};
  if (filePath) {
    let text: string;
    try {
      text = readFileSync(filePath, 'utf8');
    } catch (err) {
      throw new ConfigError([`BOS_FLEET_CONFIG=${filePath}: cannot read file (${(err as Error).message})`]);
    }
    let doc: unknown;
    try {
      doc = parseYaml(text);
    } catch (err) {
      throw new ConfigError([`BOS_FLEET_CONFIG=${filePath}: not valid YAML/JSON (${(err as Error).message})`]);
    }
    if (doc !== null && doc !== undefined) {
      if (typeof doc !== 'object' || Array.isArray(doc)) {
        throw new ConfigError([`BOS_FLEET_CONFIG=${filePath}: expected a mapping of KEY: value`]);
      }
      for (const [k, v] of Object.entries(doc as Record<string, unknown>)) {
        merged[k] = v === null || v === undefined ? undefined : String(v);
      }
    }
  }
  for (const [k, v] of Object.entries(env)) {
    if (v !== undefined && v !== '') merged[k] = v;
  }
  return merged;
}

const SECRET_KEY = /PASSWORD|TOKEN|SECRET|KEY$/i;

function shown(key: string, value: unknown): string {
  if (value === undefined) return '(unset)';
  if (SECRET_KEY.test(key)) return '(hidden)';
  return JSON.stringify(value);
}

/** Parse `raw` with a zod object schema whose keys are env names; report every problem with key, value and expectation. */
export function parseConfig<S extends z.ZodObject>(schema: S, raw: RawConfig): z.output<S> {
  const picked: Record<string, unknown> = {};
  for (const key of Object.keys(schema.shape)) picked[key] = raw[key];
  // The one default that depends on other keys: naming a server chooses the farm backend.
  if ('BOSFLEET_STORE' in schema.shape && !raw.BOSFLEET_STORE) picked.BOSFLEET_STORE = defaultStoreBackend(raw);
  const result = schema.safeParse(picked);
  if (result.success) return result.data;
  const problems = result.error.issues.map(issue => {
    const key = String(issue.path[0] ?? '(config)');
    return `${key}=${shown(key, picked[key])}: ${issue.message}`;
  });
  throw new ConfigError(problems);
}

/** embedded, unless INFLUX_URL or REDIS_URL names a server */
export function defaultStoreBackend(raw: RawConfig): 'embedded' | 'influx-redis' {
  return raw.INFLUX_URL || raw.REDIS_URL ? 'influx-redis' : 'embedded';
}

export function loadConfig<S extends z.ZodObject>(schema: S, env: NodeJS.ProcessEnv = process.env): z.output<S> {
  return parseConfig(schema, readRawConfig(env));
}

// Reusable field builders with messages that say what is expected.
export const cfg = {
  int: (def: number, min = 0, max = Number.MAX_SAFE_INTEGER) =>
    z.coerce
      .number({ error: `expected an integer between ${min} and ${max}` })
      .int({ error: `expected an integer between ${min} and ${max}` })
      .min(min, { error: `expected an integer >= ${min}` })
      .max(max, { error: `expected an integer <= ${max}` })
      .default(def),
  num: (def: number, min = 0, max = Number.MAX_VALUE) =>
    z.coerce
      .number({ error: `expected a number between ${min} and ${max}` })
      .min(min, { error: `expected a number >= ${min}` })
      .max(max, { error: `expected a number <= ${max}` })
      .default(def),
  bool: (def: boolean) =>
    z
      .enum(['true', 'false', '1', '0', 'yes', 'no'], { error: 'expected true or false' })
      .default(def ? 'true' : 'false')
      .transform(v => v === 'true' || v === '1' || v === 'yes'),
  url: (def?: string) => {
    const u = z.url({ error: 'expected a URL such as http://127.0.0.1:8086' });
    return def === undefined ? u : u.default(def);
  },
  str: (def?: string) => (def === undefined ? z.string().min(1, { error: 'expected a non-empty string' }) : z.string().default(def)),
  optionalStr: () => z.string().min(1).optional(),
  oneOf: <T extends readonly [string, ...string[]]>(values: T, def: T[number]) =>
    z.enum(values, { error: `expected one of ${values.join(', ')}` }).default(def as never),
  list: (def: string) =>
    z
      .string()
      .default(def)
      .transform(v =>
        v
          .split(',')
          .map(s => s.trim())
          .filter(Boolean),
      ),
};
