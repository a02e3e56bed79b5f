// Static checks of compose.yaml, the Dockerfile and .dockerignore. No container engine runs
// here (nor in CI), so instead of starting the stack these tests check what would make it fail
// to start or misbehave: missing files, typos in environment keys, dangling dependencies,
// services that listen where nobody can reach them, volumes the unprivileged user cannot
// write, and the demo wiring between the simulator's inventory and the collector.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import vm from 'node:vm';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import type { z } from 'zod';
import { apiConfigSchema } from '../../api/config.ts';
import type { CliCommand } from '../../bin/command.ts';
import { parseConfig } from '../../runtime/config-loader.ts';
import { collectorConfigSchema } from '../../collector/config.ts';
import { buildInventory } from '../../simulator/inventory-writer.ts';

type Dict = Record<string, unknown>;

const ROOT = path.join(import.meta.dirname, '../..');
const repo = (...p: string[]): string => path.join(ROOT, ...p);
const read = (...p: string[]): string => readFileSync(repo(...p), 'utf8');

// ---- compose interpolation ------------------------------------------------------------------

/** `${NAME}`, `${NAME:-default}`, `${NAME-default}`, `${NAME:?message}`, `${NAME?message}`. */
const INTERPOLATION = /\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?+])([^}]*))?\}/g;

interface Interpolation {
  name: string;
  op: string;
  value: string;
}

/** Every ${...} compose substitutes (`$$` is an escaped `$` left for the container's shell). */
function interpolations(text: string): Interpolation[] {
  return [...text.replaceAll('$$', '').matchAll(INTERPOLATION)].map(m => ({
    name: m[1]!,
    op: m[2] ?? '',
    value: m[3] ?? '',
  }));
}

/** The file as compose sees it with no variable set: defaults applied, `$$` unescaped. */
function withDefaults(text: string): string {
  return text
    .replaceAll('$$', '\u0000')
    .replace(INTERPOLATION, (_m, _name: string, op: string | undefined, value: string | undefined) =>
      op === ':-' || op === '-' ? (value ?? '') : '',
    )
    .replaceAll('\u0000', '$');
}

const composeText = read('compose.yaml');
/** Parsed with every variable unset (what `docker compose up` does on a fresh checkout). */
const compose = parseYaml(withDefaults(composeText), { merge: true }) as Dict;
/** Parsed as written, ${...} left in place: to compare which variable feeds which setting. */
const composeRaw = parseYaml(composeText, { merge: true }) as Dict;
const services = compose.services as Record<string, Dict>;
const rawServices = composeRaw.services as Record<string, Dict>;
const namedVolumes = new Set(Object.keys((compose.volumes as Dict | undefined) ?? {}));

/** Every string value of the file as written (comments are not interpolated, so they do not count). */
function stringsOf(v: unknown): string[] {
  if (typeof v === 'string') return [v];
  if (Array.isArray(v)) return v.flatMap(stringsOf);
  if (v && typeof v === 'object') return Object.values(v).flatMap(stringsOf);
  return [];
}
const composeStrings = stringsOf(composeRaw);

// ---- service accessors ----------------------------------------------------------------------

const list = (v: unknown): string[] =>
  v === undefined || v === null ? [] : Array.isArray(v) ? v.map(String) : [String(v)];

function envOf(s: Dict): Record<string, string> {
  const e = s.environment;
  if (!e) return {};
  if (Array.isArray(e)) {
    return Object.fromEntries(
      e.map(item => {
        const [k, ...rest] = String(item).split('=');
        return [k!, rest.join('=')];
      }),
    );
  }
  return Object.fromEntries(
    Object.entries(e as Dict).map(([k, v]) => [k, v === null || v === undefined ? '' : String(v)]),
  );
}

/** Environment as the config loader reads it: empty values count as unset. */
function rawConfig(env: Record<string, string>): Record<string, string | undefined> {
  return Object.fromEntries(Object.entries(env).filter(([, v]) => v !== ''));
}

interface Mount {
  type: 'bind' | 'volume';
  source: string;
  target: string;
  readOnly: boolean;
}

function mountsOf(s: Dict): Mount[] {
  return ((s.volumes as unknown[] | undefined) ?? []).map((v): Mount => {
    if (typeof v === 'string') {
      const [source = '', target, mode = ''] = v.split(':');
      if (target === undefined) return { type: 'volume', source: '', target: source, readOnly: false };
      const bind = /^[./~]/.test(source);
      return { type: bind ? 'bind' : 'volume', source, target, readOnly: mode.split(',').includes('ro') };
    }
    const o = v as Dict;
    return {
      type: o.type === 'bind' ? 'bind' : 'volume',
      source: String(o.source ?? ''),
      target: String(o.target),
      readOnly: o.read_only === true,
    };
  });
}

interface Port {
  hostIp: string;
  published: string;
  target: string;
}

function portsOf(s: Dict): Port[] {
  return ((s.ports as unknown[] | undefined) ?? []).map((p): Port => {
    if (typeof p === 'object' && p !== null) {
      const o = p as Dict;
      return {
        hostIp: String(o.host_ip ?? ''),
        published: String(o.published ?? ''),
        target: String(o.target),
      };
    }
    const parts = String(p).split('/')[0]!.split(':');
    if (parts.length === 1) return { hostIp: '', published: '', target: parts[0]! };
    if (parts.length === 2) return { hostIp: '', published: parts[0]!, target: parts[1]! };
    return { hostIp: parts.slice(0, -2).join(':'), published: parts.at(-2)!, target: parts.at(-1)! };
  });
}

const containerPorts = (s: Dict): Set<string> =>
  new Set([...list(s.expose).map(p => p.split('/')[0]!), ...portsOf(s).map(p => p.target)]);
const profilesOf = (s: Dict): string[] => list(s.profiles);
const isBuilt = (s: Dict): boolean => s.build !== undefined;

function dependsOn(s: Dict): Record<string, { condition: string; required: boolean }> {
  const d = s.depends_on;
  if (!d) return {};
  if (Array.isArray(d))
    return Object.fromEntries(d.map(n => [String(n), { condition: 'service_started', required: true }]));
  return Object.fromEntries(
    Object.entries(d as Record<string, Dict>).map(([n, o]) => [
      n,
      { condition: String(o.condition ?? 'service_started'), required: o.required !== false },
    ]),
  );
}

// ---- the Dockerfile -------------------------------------------------------------------------

interface Instruction {
  op: string;
  args: string;
}

const dockerfile: Instruction[] = read('Dockerfile')
  .replace(/\\\r?\n/g, ' ')
  .split(/\r?\n/)
  .map(l => l.trim())
  .filter(l => l !== '' && !l.startsWith('#'))
  .map(l => {
    const m = /^(\S+)\s*(.*)$/.exec(l)!;
    return { op: m[1]!.toUpperCase(), args: m[2]! };
  });

const lastStage = dockerfile.slice(dockerfile.findLastIndex(i => i.op === 'FROM'));
const jsonArgs = (op: string): string[] | undefined => {
  const i = lastStage.findLast(x => x.op === op);
  return i ? (JSON.parse(i.args) as string[]) : undefined;
};
const imageCmd = jsonArgs('CMD') ?? [];
const imageHealthcheck = lastStage.findLast(i => i.op === 'HEALTHCHECK');
/** Directories the image creates (and hands to the `node` user) for volumes to be mounted on. */
const imageDirs = new Set(
  lastStage
    .filter(i => i.op === 'RUN')
    .flatMap(i => [...i.args.matchAll(/mkdir\s+-p\s+([^&;|]+)/g)].flatMap(m => m[1]!.trim().split(/\s+/))),
);

// ---- the CLI --------------------------------------------------------------------------------

const CLI_COMMANDS = [...read('bin/bos-fleet.ts').matchAll(/^\s+([a-z][a-z-]*): \{ summary:/gm)].map(
  m => m[1]!,
);

async function loadCommand(name: string): Promise<CliCommand> {
  const mod = (await import(`../../bin/commands/${name}.ts`)) as Record<string, unknown>;
  const cmd = Object.values(mod).find(
    (v): v is CliCommand => typeof v === 'object' && v !== null && (v as CliCommand).name === name,
  );
  if (!cmd) throw new Error(`bin/commands/${name}.ts exports no command named ${name}`);
  return cmd;
}

interface Invocation {
  command: string;
  /** option names used (without the leading --) */
  options: string[];
  /** the text of the arguments, for value checks */
  text: string;
}

/**
 * What `bos-fleet` runs in a service built from the Dockerfile: the command line given to the
 * image's entrypoint, or every `bin/bos-fleet.ts <command> ...` line of a shell entrypoint.
 */
function invocations(s: Dict): Invocation[] {
  const optionsIn = (text: string): string[] =>
    [...text.matchAll(/(?:^|\s)--([a-z][a-z0-9-]*)/g)].map(m => m[1]!);
  if (s.entrypoint !== undefined) {
    const script = [...list(s.entrypoint), ...list(s.command)].join('\n').replace(/\\\r?\n/g, ' ');
    return [...script.matchAll(/bin\/bos-fleet\.ts\s+([a-z][a-z-]*)([^\n]*)/g)].map(m => ({
      command: m[1]!,
      options: optionsIn(m[2]!),
      text: m[2]!,
    }));
  }
  const argv = s.command === undefined ? imageCmd : list(s.command);
  const [command = '', ...args] = argv;
  return [{ command, options: optionsIn(args.join(' ')), text: args.join(' ') }];
}

/** The shell script of a service whose entrypoint is `sh -c`. */
function shellScript(s: Dict): string | undefined {
  const ep = list(s.entrypoint);
  if (ep[0] !== 'sh' || ep[1] !== '-c') return undefined;
  return ep[2] ?? list(s.command)[0];
}

// ---- environment a service may carry --------------------------------------------------------

const collectorKeys = new Set(Object.keys(collectorConfigSchema.shape));
const apiKeys = new Set(Object.keys(apiConfigSchema.shape));
/** Passwords the inventory's credentials name (password_env), e.g. MINER_PASSWORD, MINER_PASSWORD_SIM_0003. */
const MINER_PASSWORD_ENV = /^MINER_PASSWORD(_[A-Z0-9_]+)?$/;
// Read by Node itself (V8 flags such as the collector's young-generation size) or by every command.
const ALWAYS_ALLOWED = new Set(['NODE_ENV', 'NODE_OPTIONS', 'BOS_FLEET_CONFIG']);
/** Keys each command reads beyond its schema. */
const EXTRA_KEYS: Record<string, (key: string) => boolean> = {
  collector: k => MINER_PASSWORD_ENV.test(k),
  api: k => k === 'COLLECTOR_POLL_INTERVAL_MS' || MINER_PASSWORD_ENV.test(k), // api/server.ts: staleness; passwords named by the inventory's credentials
  simulator: k => MINER_PASSWORD_ENV.test(k) || k === 'LOG_LEVEL', // the demo script passes $MINER_PASSWORD to --password
  token: k => k === 'AUTH_ISSUER' || k === 'AUTH_AUDIENCE',
};
const SCHEMAS: Record<string, { keys: Set<string>; schema: z.ZodObject }> = {
  collector: { keys: collectorKeys, schema: collectorConfigSchema },
  api: { keys: apiKeys, schema: apiConfigSchema },
};
/** Where each command serves HTTP: the keys of its listen address and port. */
const LISTEN_KEYS: Record<string, { host: string; port: string }> = {
  collector: { host: 'COLLECTOR_HTTP_HOST', port: 'COLLECTOR_HTTP_PORT' },
  api: { host: 'API_HOST', port: 'API_PORT' },
};

const builtServices = Object.entries(services).filter(([, s]) => isBuilt(s));
const serviceRunning = (command: string): [string, Dict] => {
  const found = builtServices.find(([, s]) => invocations(s).some(i => i.command === command));
  if (!found) throw new Error(`no compose service runs 'bos-fleet ${command}'`);
  return found;
};

// ---- tests ----------------------------------------------------------------------------------

describe('compose.yaml: structure', () => {
  it('parses and has only known top-level keys', () => {
    const known = new Set(['name', 'services', 'volumes', 'networks', 'secrets', 'configs']);
    expect(Object.keys(compose).filter(k => !known.has(k) && !k.startsWith('x-'))).toEqual([]);
    expect(Object.keys(services).length).toBeGreaterThan(0);
  });

  it('has the services the docs and the Prometheus config expect', () => {
    for (const name of ['influxdb', 'redis', 'collector', 'api', 'grafana', 'prometheus']) {
      expect(services[name], name).toBeDefined();
      expect(profilesOf(services[name]!), `${name} starts without a profile`).toEqual([]);
    }
    expect(profilesOf(services.simulator!)).toEqual(['demo']);
    expect(profilesOf(services.influxdb3!)).toEqual(['influxdb3']);
  });

  for (const [name, s] of Object.entries(services)) {
    it(`${name}: has an image or a build, and pinned third-party images`, () => {
      expect(s.image !== undefined || s.build !== undefined).toBe(true);
      if (!isBuilt(s)) {
        const image = String(s.image);
        expect(image, `${name} image has a tag`).toMatch(/^[^:]+:[^:]+$/);
        expect(image, `${name} image is pinned to a version`).not.toMatch(/:(latest|stable|main)$/);
        expect(image.split(':')[1], `${name} image tag has a version number`).toMatch(/\d/);
      }
    });
  }

  it('every build context and Dockerfile exists', () => {
    for (const [name, s] of builtServices) {
      const b = s.build;
      const context = typeof b === 'string' ? b : String((b as Dict).context ?? '.');
      const dockerfileName =
        typeof b === 'string' ? 'Dockerfile' : String((b as Dict).dockerfile ?? 'Dockerfile');
      expect(
        existsSync(repo(context)) && statSync(repo(context)).isDirectory(),
        `${name}: build context ${context}`,
      ).toBe(true);
      expect(existsSync(repo(context, dockerfileName)), `${name}: ${dockerfileName}`).toBe(true);
    }
  });

  it('every bind-mounted host path exists in the repository, and every named volume is declared', () => {
    for (const [name, s] of Object.entries(services)) {
      for (const m of mountsOf(s)) {
        if (m.type === 'bind') {
          expect(m.source, `${name}: bind mounts use repository-relative paths`).toMatch(/^\.\//);
          expect(existsSync(repo(m.source)), `${name}: ${m.source} exists`).toBe(true);
          expect(m.readOnly, `${name}: ${m.source} is mounted read-only`).toBe(true);
        } else if (m.source !== '') {
          expect(namedVolumes.has(m.source), `${name}: volume ${m.source} is declared under volumes:`).toBe(
            true,
          );
        }
      }
    }
  });

  it('every env_file exists (unless marked required: false)', () => {
    for (const [name, s] of Object.entries(services)) {
      for (const f of (Array.isArray(s.env_file)
        ? s.env_file
        : s.env_file === undefined
          ? []
          : [s.env_file]) as unknown[]) {
        const entry =
          typeof f === 'string'
            ? { path: f, required: true }
            : { path: String((f as Dict).path), required: (f as Dict).required !== false };
        if (entry.required)
          expect(existsSync(repo(entry.path)), `${name}: env_file ${entry.path}`).toBe(true);
      }
    }
  });

  it('uses only braced ${VAR} interpolation, each with a default, each documented in docs/operations.md', () => {
    const bare = composeStrings.flatMap(v =>
      [...v.replaceAll('$$', '').matchAll(/\$(?!\{)[A-Za-z_(]/g)].map(m => `${m[0]} in ${v}`),
    );
    expect(bare, 'bare $VAR (write ${VAR}, or $$ for the container shell)').toEqual([]);
    const found = composeStrings.flatMap(interpolations);
    expect(found.length).toBeGreaterThan(0);
    const ops = read('docs/operations.md');
    for (const v of found) {
      expect(['-', ':-'].includes(v.op), `\${${v.name}} has a default so a fresh checkout starts`).toBe(true);
      expect(ops, `${v.name} is documented in docs/operations.md`).toMatch(new RegExp(`\\b${v.name}\\b`));
    }
  });

  it('no two services publish the same host port, and ports are published on loopback by default', () => {
    const seen = new Map<string, string>();
    for (const [name, s] of Object.entries(services)) {
      for (const p of portsOf(s)) {
        expect(p.published, `${name}: ${p.target} is published on a fixed host port`).not.toBe('');
        expect(
          p.hostIp,
          `${name}: ${p.published} binds to 127.0.0.1 unless BOSFLEET_BIND says otherwise`,
        ).toBe('127.0.0.1');
        expect(
          seen.get(p.published),
          `host port ${p.published} published by ${seen.get(p.published)} and ${name}`,
        ).toBeUndefined();
        seen.set(p.published, name);
      }
    }
  });

  it('every depends_on names a service and a condition that can be met', () => {
    for (const [name, s] of Object.entries(services)) {
      for (const [dep, { condition, required }] of Object.entries(dependsOn(s))) {
        const target = services[dep];
        expect(target, `${name} depends on unknown service ${dep}`).toBeDefined();
        if (!target) continue;
        if (condition === 'service_healthy') {
          const hc = target.healthcheck as Dict | undefined;
          const hasCheck = hc
            ? hc.disable !== true && hc.test !== undefined
            : isBuilt(target) && imageHealthcheck !== undefined;
          expect(hasCheck, `${name} waits for ${dep} to be healthy, so ${dep} needs a healthcheck`).toBe(
            true,
          );
        }
        if (condition === 'service_completed_successfully') {
          expect(
            target.restart === 'no' || target.restart === undefined,
            `${dep} is a one-shot (restart: "no")`,
          ).toBe(true);
        }
        // `docker compose up` without profiles fails when a started service needs a profiled one.
        if (required && profilesOf(target).length > 0) {
          const sharesProfile = profilesOf(s).some(p => profilesOf(target).includes(p));
          expect(
            sharesProfile,
            `${name} depends on ${dep}, which only runs with --profile ${profilesOf(target).join('/')}`,
          ).toBe(true);
        }
      }
    }
  });

  it('healthchecks and shell entrypoints are valid JavaScript / sh', () => {
    const scripts: [string, string][] = [];
    for (const [name, s] of Object.entries(services)) {
      const test = list((s.healthcheck as Dict | undefined)?.test);
      if (test[0] === 'CMD' && test[1] === 'node' && test[2] === '-e')
        scripts.push([`${name} healthcheck`, test[3]!]);
      const sh = shellScript(s);
      if (sh !== undefined) {
        const r = spawnSync('sh', ['-n', '-c', sh], { encoding: 'utf8' });
        expect(r.status, `${name}: sh -n: ${r.stderr}`).toBe(0);
      }
    }
    expect(scripts.length).toBeGreaterThan(0);
    for (const [where, code] of scripts) expect(() => new vm.Script(code), where).not.toThrow();
  });
});

describe('compose.yaml: bos-fleet services', () => {
  it('run only commands the CLI has, with options those commands know', async () => {
    expect(CLI_COMMANDS).toEqual(expect.arrayContaining(['api', 'collector', 'simulator', 'token']));
    expect(builtServices.length).toBeGreaterThan(0);
    for (const [name, s] of builtServices) {
      const runs = invocations(s);
      expect(runs.length, `${name} runs bos-fleet`).toBeGreaterThan(0);
      for (const inv of runs) {
        expect(CLI_COMMANDS, `${name}: 'bos-fleet ${inv.command}'`).toContain(inv.command);
        const cmd = await loadCommand(inv.command);
        const known = new Set([...Object.keys(cmd.options), 'help']);
        expect(
          inv.options.filter(o => !known.has(o)),
          `${name}: unknown options of 'bos-fleet ${inv.command}'`,
        ).toEqual([]);
      }
    }
  });

  it('set only environment keys that the commands they run read (catches typos)', () => {
    for (const [name, s] of builtServices) {
      const commands = invocations(s).map(i => i.command);
      const allowed = (key: string): boolean =>
        ALWAYS_ALLOWED.has(key) ||
        commands.some(c => (SCHEMAS[c]?.keys.has(key) ?? false) || (EXTRA_KEYS[c]?.(key) ?? false));
      expect(
        Object.keys(envOf(s)).filter(k => !allowed(k)),
        `${name}: keys no command of it reads`,
      ).toEqual([]);
    }
  });

  it('give the collector and the API a configuration their schemas accept', () => {
    for (const command of ['collector', 'api']) {
      const [name, s] = serviceRunning(command);
      expect(() => parseConfig(SCHEMAS[command]!.schema, rawConfig(envOf(s))), name).not.toThrow();
    }
  });

  it('keep every configured absolute path on a mounted volume (writable where the app writes)', () => {
    for (const [name, s] of builtServices) {
      const mounts = mountsOf(s);
      for (const [key, value] of Object.entries(envOf(s))) {
        if (!value.startsWith('/')) continue;
        const m = mounts.find(x => value === x.target || value.startsWith(`${x.target}/`));
        expect(m, `${name}: ${key}=${value} is on a mounted volume`).toBeDefined();
        if (key === 'FIRMWARE_DIR') expect(m?.readOnly, `${name}: FIRMWARE_DIR is writable`).toBe(false);
      }
    }
  });

  it('give the API a writable volume for the secret key it generates without BOSFLEET_SECRET_KEY', () => {
    // The app tree is not writable in the image: the default ./.data/secret.key cannot be created
    // there, and jobs with pool passwords would be refused.
    const [name, s] = serviceRunning('api');
    const file = envOf(s).BOSFLEET_SECRET_KEY_FILE ?? '';
    expect(file.startsWith('/'), `${name}: BOSFLEET_SECRET_KEY_FILE is an absolute path`).toBe(true);
    const m = mountsOf(s).find(x => file.startsWith(`${x.target}/`));
    expect(m?.type, `${name}: ${file} is on a named volume`).toBe('volume');
    expect(m?.readOnly, `${name}: ${file} is writable`).toBe(false);
  });

  it('mount named volumes only on directories the image creates for the node user', () => {
    for (const [name, s] of builtServices) {
      for (const m of mountsOf(s).filter(x => x.type === 'volume')) {
        expect(
          imageDirs.has(m.target),
          `${name}: ${m.target} is created (and chowned) in the Dockerfile`,
        ).toBe(true);
      }
    }
  });

  it('listen on all interfaces inside the container, on the ports the network reaches', () => {
    for (const [command, keys] of Object.entries(LISTEN_KEYS)) {
      const [name, s] = serviceRunning(command);
      const config = parseConfig(SCHEMAS[command]!.schema, rawConfig(envOf(s))) as Record<string, unknown>;
      expect(config[keys.host], `${name}: ${keys.host}`).toBe('0.0.0.0');
      expect(
        containerPorts(s).has(String(config[keys.port])),
        `${name}: port ${String(config[keys.port])} is exposed`,
      ).toBe(true);
    }
  });

  it('collector healthcheck probes the collector port; the API uses the image healthcheck', () => {
    const [, collector] = serviceRunning('collector');
    const test = list((collector.healthcheck as Dict).test).join(' ');
    expect(test).toContain(`:${envOf(collector).COLLECTOR_HTTP_PORT}/health/live`);
    const [, api] = serviceRunning('api');
    expect(api.healthcheck === undefined || (api.healthcheck as Dict).disable !== true).toBe(true);
    expect(imageHealthcheck?.args).toContain('API_PORT');
  });

  it('point the collector, the API and Grafana at the same InfluxDB database and token as the InfluxDB setup', () => {
    const influxEnv = envOf(rawServices.influxdb!);
    for (const name of [serviceRunning('collector')[0], serviceRunning('api')[0], 'grafana']) {
      const env = envOf(rawServices[name]!);
      expect(env.INFLUX_DB, `${name}: INFLUX_DB`).toBe(influxEnv.DOCKER_INFLUXDB_INIT_BUCKET);
      expect(env.INFLUX_TOKEN, `${name}: INFLUX_TOKEN`).toBe(influxEnv.DOCKER_INFLUXDB_INIT_ADMIN_TOKEN);
      expect(env.INFLUX_URL, `${name}: INFLUX_URL`).toBe(
        envOf(rawServices[serviceRunning('collector')[0]]!).INFLUX_URL,
      );
    }
  });

  it('name reachable services in INFLUX_URL and REDIS_URL', () => {
    for (const command of ['collector', 'api']) {
      const [name, s] = serviceRunning(command);
      const env = envOf(s);
      for (const key of ['INFLUX_URL', 'REDIS_URL']) {
        const url = new URL(env[key]!);
        const target = services[url.hostname];
        expect(target, `${name}: ${key} host ${url.hostname} is a compose service`).toBeDefined();
        expect(profilesOf(target!), `${name}: ${key} names a service that starts by default`).toEqual([]);
      }
    }
  });

  it('verify JWTs with the public key the keygen service writes', () => {
    const [name, api] = serviceRunning('api');
    const keyFile = envOf(api).AUTH_PUBLIC_KEY_FILE!;
    const apiMount = mountsOf(api).find(m => keyFile.startsWith(`${m.target}/`))!;
    expect(apiMount.readOnly, `${name}: the key volume is read-only for the API`).toBe(true);
    const writer = builtServices.find(
      ([, s]) =>
        invocations(s).some(i => i.command === 'token') &&
        mountsOf(s).some(m => m.source === apiMount.source && !m.readOnly),
    );
    expect(writer, `a service runs 'bos-fleet token' and writes the ${apiMount.source} volume`).toBeDefined();
    const [gen, keygen] = writer!;
    const genMount = mountsOf(keygen).find(m => m.source === apiMount.source);
    expect(shellScript(keygen)).toContain(
      path.posix.join(genMount!.target, path.posix.relative(apiMount.target, keyFile)),
    );
    expect(dependsOn(api)[gen]?.condition).toBe('service_completed_successfully');
    // the private key never reaches the API
    const privateVolumes = mountsOf(keygen)
      .filter(m => m.source !== apiMount.source)
      .map(m => m.source);
    expect(mountsOf(api).filter(m => privateVolumes.includes(m.source))).toEqual([]);
  });
});

describe('compose.yaml: demo profile', () => {
  const [simName, sim] = serviceRunning('simulator');
  const inv = invocations(sim).find(i => i.command === 'simulator')!;
  const optionValue = (name: string): string | undefined =>
    new RegExp(`--${name}[ =]("[^"]*"|\\S+)`).exec(inv.text)?.[1]?.replace(/^"|"$/g, '');

  it('runs the simulator in port mode on an address other containers can reach', () => {
    expect(inv.options).toContain('port-mode');
    const base = optionValue('base-address');
    expect(base, 'an explicit --base-address').toBeDefined();
    expect(base, 'not a loopback address (unreachable from the collector container)').not.toMatch(
      /^127\.|^localhost$/,
    );
  });

  it('writes its inventory where the collector reads COLLECTOR_INVENTORY_FILE', () => {
    const out = optionValue('inventory-out')!;
    expect(out).toBeDefined();
    const simMount = mountsOf(sim).find(m => m.type === 'volume' && out.startsWith(`${m.target}/`));
    expect(simMount, `${simName}: --inventory-out ${out} is on a named volume`).toBeDefined();
    expect(simMount!.readOnly).toBe(false);
    const [colName, collector] = serviceRunning('collector');
    const colMount = mountsOf(collector).find(m => m.source === simMount!.source);
    expect(colMount, `${colName} mounts the ${simMount!.source} volume`).toBeDefined();
    expect(envOf(collector).COLLECTOR_INVENTORY_FILE).toBe(
      path.posix.join(colMount!.target, path.posix.relative(simMount!.target, out)),
    );
  });

  it("gives the collector the password the simulator's inventory refers to, from the same variable", () => {
    const passwordEnv = buildInventory([], { defaultPort: 50_051 }).credentials.default?.password_env;
    expect(passwordEnv).toBeDefined();
    const [colName] = serviceRunning('collector');
    const collectorValue = envOf(rawServices[colName]!)[passwordEnv!];
    expect(collectorValue, `${colName} sets ${passwordEnv}`).toBeDefined();
    expect(envOf(rawServices[simName]!)[passwordEnv!]).toBe(collectorValue);
    expect(optionValue('password')).toBe(`$${passwordEnv}`);
  });
});

describe('compose.yaml: Prometheus and Grafana', () => {
  const promConfigPath = 'dashboards/prometheus/prometheus.yml';
  const prom = parseYaml(read(promConfigPath)) as {
    rule_files?: string[];
    scrape_configs: { job_name: string; static_configs?: { targets: string[] }[] }[];
  };

  it('every scrape target is a compose service listening on that port', () => {
    const targets = prom.scrape_configs.flatMap(j =>
      (j.static_configs ?? []).flatMap(c => c.targets.map(t => [j.job_name, t] as const)),
    );
    expect(targets.length).toBeGreaterThan(0);
    for (const [job, target] of targets) {
      const [host = '', port = ''] = target.split(':');
      if (host === 'localhost') continue;
      const s = services[host];
      expect(s, `${job}: ${host} is a compose service`).toBeDefined();
      expect(profilesOf(s!), `${job}: ${host} starts by default`).toEqual([]);
      expect(containerPorts(s!).has(port), `${job}: ${host} exposes ${port}`).toBe(true);
    }
  });

  it('mounts prometheus.yml and its rule files where the config expects them', () => {
    const p = services.prometheus!;
    const configFlag = list(p.command).find(a => a.startsWith('--config.file='));
    const configPath = configFlag?.split('=')[1] ?? '/etc/prometheus/prometheus.yml';
    const mounts = mountsOf(p);
    const mountFor = (target: string): Mount | undefined => mounts.find(m => m.target === target);
    expect(mountFor(configPath)?.source).toBe(`./${promConfigPath}`);
    for (const rule of prom.rule_files ?? []) {
      const m = mountFor(path.posix.join(path.posix.dirname(configPath), rule));
      expect(m?.source, `rule file ${rule}`).toBe(
        `./${path.posix.join(path.posix.dirname(promConfigPath), rule)}`,
      );
    }
  });

  it('sets every variable the Grafana provisioning files reference', () => {
    const dir = repo('dashboards/grafana/provisioning');
    const files = readdirSync(dir, { recursive: true, encoding: 'utf8' }).filter(f => /\.ya?ml$/.test(f));
    expect(files.length).toBeGreaterThan(0);
    const vars = new Set<string>();
    const walk = (v: unknown): void => {
      if (typeof v === 'string')
        for (const m of v.replaceAll('$$', '').matchAll(/\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?/g)) vars.add(m[1]!);
      else if (Array.isArray(v)) v.forEach(walk);
      else if (v && typeof v === 'object') Object.values(v).forEach(walk);
    };
    // parsed, so commented-out examples do not count
    for (const f of files) walk(parseYaml(readFileSync(path.join(dir, f), 'utf8')));
    expect(vars.size).toBeGreaterThan(0);
    const env = envOf(services.grafana!);
    for (const v of vars) expect(env[v], `grafana sets ${v}`).toBeTruthy();
    const prometheusUrl = new URL(env.PROMETHEUS_URL!);
    expect(services[prometheusUrl.hostname]).toBeDefined();
  });

  it('mounts the provisioning and dashboard directories where Grafana and the provider look', () => {
    const mounts = mountsOf(services.grafana!);
    expect(mounts.find(m => m.target === '/etc/grafana/provisioning')?.source).toBe(
      './dashboards/grafana/provisioning',
    );
    const providers = parseYaml(read('dashboards/grafana/provisioning/dashboards/bosfleet.yaml')) as {
      providers: { options: { path: string } }[];
    };
    for (const p of providers.providers) {
      expect(mounts.find(m => m.target === p.options.path)?.source).toBe('./dashboards/grafana/dashboards');
    }
  });
});

describe('Dockerfile', () => {
  it('builds on the official Node 24 image, pinned by tag, in every stage', () => {
    const froms = dockerfile.filter(i => i.op === 'FROM');
    expect(froms.length).toBeGreaterThan(0);
    for (const f of froms) expect(f.args).toMatch(/^node:24-bookworm-slim(\s+AS\s+\S+)?$/i);
  });

  it('runs as a non-root user in production mode', () => {
    const user = lastStage.findLast(i => i.op === 'USER');
    expect(user, 'a USER in the final stage').toBeDefined();
    expect(user!.args.split(':')[0]).not.toMatch(/^(root|0)$/);
    expect(lastStage.some(i => i.op === 'ENV' && /\bNODE_ENV=production\b/.test(i.args))).toBe(true);
  });

  it('has a HEALTHCHECK on /health/live written in valid JavaScript (no curl in the slim image)', () => {
    expect(imageHealthcheck).toBeDefined();
    const argv = JSON.parse(/CMD\s+(\[.*\])$/.exec(imageHealthcheck!.args)![1]!) as string[];
    expect(argv.slice(0, 2)).toEqual(['node', '-e']);
    expect(argv[2]).toContain('/health/live');
    expect(() => new vm.Script(argv[2]!)).not.toThrow();
  });

  it('enters bin/bos-fleet.ts with a CLI command as the default', () => {
    expect(jsonArgs('ENTRYPOINT')).toEqual(['node', 'bin/bos-fleet.ts']);
    expect(existsSync(repo('bin/bos-fleet.ts'))).toBe(true);
    expect(CLI_COMMANDS).toContain(imageCmd[0]);
  });
});

describe('.dockerignore', () => {
  const patterns = read('.dockerignore')
    .split(/\r?\n/)
    .map(l => l.trim())
    .filter(l => l !== '' && !l.startsWith('#'));
  const toRegex = (p: string): RegExp =>
    new RegExp(
      `^${p
        .replace(/^\//, '')
        .replace(/[.+^${}()|[\]\\]/g, '\\$&')
        .replaceAll('**', '\u0000')
        .replaceAll('*', '[^/]*')
        .replaceAll('\u0000', '.*')
        .replaceAll('?', '[^/]')}(/.*)?$`,
    );
  /** Docker's rule: the last matching pattern wins; `!` re-includes. */
  const ignored = (file: string): boolean => {
    let result = false;
    for (const p of patterns) {
      const negate = p.startsWith('!');
      if (toRegex(negate ? p.slice(1) : p).test(file)) result = !negate;
    }
    return result;
  };

  it('keeps secrets, local state and host node_modules out of the image', () => {
    for (const f of [
      '.env',
      '.git/config',
      'node_modules/x',
      'proto/generated/x.ts',
      'keys/private.pem',
      '.data/firmware/x',
    ])
      expect(ignored(f), f).toBe(true);
  });

  it('keeps everything the commands need', () => {
    for (const f of [
      'package.json',
      'package-lock.json',
      'bin/bos-fleet.ts',
      'bin/commands/api.ts',
      'proto/generate.ts',
      'proto/loader.ts',
    ])
      expect(ignored(f), f).toBe(false);
  });

  it('excludes no file that the runtime code imports', () => {
    const runtimeDirs = ['bin', 'collector', 'api', 'mcp', 'simulator', 'proto', 'demo'];
    const files = runtimeDirs
      .filter(d => existsSync(repo(d)))
      .flatMap(d =>
        readdirSync(repo(d), { recursive: true, encoding: 'utf8' }).map(f =>
          path.posix.join(d, f.split(path.sep).join('/')),
        ),
      )
      .filter(f => f.endsWith('.ts') && !f.startsWith('proto/generated/') && !ignored(f));
    expect(files.length).toBeGreaterThan(0);
    const missing: string[] = [];
    for (const f of files) {
      for (const m of read(f).matchAll(
        /(?:^|\s)(?:import|export)\s[^'"]*?from\s+'(\.[^']+)'|import\(\s*'(\.[^']+)'\s*\)/gm,
      )) {
        const spec = m[1] ?? m[2]!;
        // type-only imports are erased by Node and need not exist in the image
        if (/^\s*(?:import|export)\s+type\s/.test(m[0])) continue;
        const target = path.posix.normalize(path.posix.join(path.posix.dirname(f), spec));
        if (target.startsWith('proto/generated/')) continue;
        if (ignored(target)) missing.push(`${f} -> ${target}`);
      }
    }
    expect(missing).toEqual([]);
  });
});
