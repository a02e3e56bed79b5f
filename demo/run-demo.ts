import { mkdirSync } from 'node:fs';
import { createServer } from 'node:net';
import { join, resolve } from 'node:path';
import { apiConfigSchema } from '../api/config.ts';
import { ConsoleSessions } from '../console/sessions.ts';
import { collectorConfigSchema } from '../collector/config.ts';
import { defaultStoreBackend, parseConfig, readRawConfig, type RawConfig } from '../runtime/config-loader.ts';
import { ListenError, listenError } from '../runtime/listen-error.ts';
import { localAuth } from '../runtime/local-auth.ts';
import type { Logger } from '../runtime/logger.ts';
import { startOneProcess } from '../runtime/one-process.ts';
import { openStore } from '../store/open-store.ts';
import type { Store, StoreBackend } from '../store/store.ts';
import { startSimulator, type SimulatedFleet } from '../simulator/index.ts';
import { hasBinary, startLocalInflux, startLocalRedis, type LocalService } from './local-services.ts';

/**
 * The whole product on loopback in one process: a simulated fleet and the one-process
 * composition (collector, API, MCP over HTTP, console) on one store. The embedded store (the
 * default) needs nothing installed; influx-redis uses INFLUX_URL/REDIS_URL, else starts the
 * local influxd and redis-server with temporary data, else says what to install.
 */
export interface DemoOptions {
  miners: number;
  faults: string;
  apiPort: number;
  metricsPort: number;
  /** inventory, signing keys and (embedded) the store */
  dataDir: string;
  seed: number;
  log: Logger;
  /** --store; default from BOSFLEET_STORE, else embedded unless INFLUX_URL/REDIS_URL are set */
  store?: StoreBackend | undefined;
  /** first address of the simulated fleet (one loopback address per miner) */
  fleetAddress?: string;
  env?: NodeJS.ProcessEnv;
  /** aborted (Ctrl+C) while starting: what was started is stopped and DemoInterrupted is thrown */
  signal?: AbortSignal;
}

export interface Demo {
  apiUrl: string;
  docsUrl: string;
  mcpUrl: string;
  collectorMetricsUrl: string;
  apiMetricsUrl: string;
  token: string;
  /** one-time link that logs a browser into the console (valid 15 min, once) */
  consoleLoginUrl: string;
  tenant: string;
  miners: number;
  store: Pick<Store, 'backend' | 'location'>;
  /** influx-redis only */
  influxUrl: string | null;
  redisUrl: string | null;
  fleet: SimulatedFleet;
  stop(): Promise<void>;
}

export class DemoSetupError extends Error {}
export class DemoInterrupted extends Error {
  constructor() {
    super('interrupted while starting');
  }
}

export const DEFAULT_FLEET_ADDRESS = '127.77.0.1';
const SIMULATOR_PORT = 50_051;

export async function startDemo(o: DemoOptions): Promise<Demo> {
  const env = o.env ?? process.env;
  const stops: (() => Promise<void>)[] = [];
  const stopAll = async (): Promise<void> => {
    for (const s of stops.reverse()) await s().catch(err => o.log.warn({ err: (err as Error).message }, 'demo: stop step failed'));
  };
  const checkpoint = (): void => {
    if (o.signal?.aborted) throw new DemoInterrupted();
  };
  try {
    const fileRaw = readRawConfig(env);
    const backend: StoreBackend = o.store ?? (fileRaw.BOSFLEET_STORE as StoreBackend | undefined) ?? defaultStoreBackend(fileRaw);
    const dataDir = resolve(o.dataDir);
    let store: Store | null = null;
    if (backend === 'embedded') {
      // First: a second demo on the same folder stops here, with one line naming the folder.
      store = openStore({ ...storeKeysOf(fileRaw), BOSFLEET_STORE: 'embedded', BOSFLEET_DATA_DIR: dataDir }, { log: o.log });
      const s = store;
      stops.push(() => s.close());
    }
    const fleetAddress = o.fleetAddress ?? DEFAULT_FLEET_ADDRESS;
    await assertFree(fleetAddress, SIMULATOR_PORT, 'the simulated fleet', '--fleet-address (e.g. 127.78.0.1)');
    checkpoint();

    let influxUrl: string | null = null;
    let redisUrl: string | null = null;
    if (backend === 'influx-redis') {
      const services: LocalService[] = [];
      stops.push(async () => {
        for (const s of services) await s.destroy();
      });
      influxUrl = env.INFLUX_URL ?? null;
      redisUrl = env.REDIS_URL ?? null;
      const missing = [!influxUrl && !hasBinary('influxd') ? 'influxdb' : null, !redisUrl && !hasBinary('redis-server') ? 'redis-server' : null].filter(Boolean);
      if (missing.length > 0) {
        throw new DemoSetupError(
          `the demo on --store influx-redis needs InfluxDB and Redis: set INFLUX_URL and REDIS_URL to running servers, install them (apt-get install -y ${missing.join(' ')}), or run it on the embedded store (--store embedded)`,
        );
      }
      if (!influxUrl) {
        const s = await startLocalInflux({ ownProcessGroup: true, ...(o.signal ? { signal: o.signal } : {}) });
        services.push(s);
        influxUrl = s.url;
        checkpoint();
      }
      if (!redisUrl) {
        const s = await startLocalRedis({ ownProcessGroup: true, ...(o.signal ? { signal: o.signal } : {}) });
        services.push(s);
        redisUrl = s.url;
        checkpoint();
      }
    }

    const fleet = await startSimulator({ miners: o.miners, seed: o.seed, faults: o.faults, sites: 2, baseAddress: fleetAddress, rebootMs: 10_000, logger: o.log });
    stops.push(() => fleet.stop());
    checkpoint();
    mkdirSync(dataDir, { recursive: true });
    const inventory = join(dataDir, 'inventory.yaml');
    await fleet.writeInventory(inventory);
    const auth = await localAuth(join(dataDir, 'keys'));
    const tenant = fleet.miners[0]!.tenant;

    // The simulated miners use root/root; the inventory names MINER_PASSWORD for it.
    process.env.MINER_PASSWORD ??= 'root';
    const raw: RawConfig = {
      ...fileRaw,
      BOSFLEET_STORE: backend,
      BOSFLEET_DATA_DIR: dataDir,
      ...(influxUrl ? { INFLUX_URL: influxUrl } : {}),
      ...(redisUrl ? { REDIS_URL: redisUrl } : {}),
      COLLECTOR_INVENTORY_FILE: inventory,
    };
    const collectorConfig = parseConfig(collectorConfigSchema, {
      ...raw,
      COLLECTOR_HTTP_PORT: String(o.metricsPort),
      COLLECTOR_POLL_INTERVAL_MS: raw.COLLECTOR_POLL_INTERVAL_MS ?? '5000',
    });
    const apiConfig = parseConfig(apiConfigSchema, {
      ...raw,
      API_PORT: String(o.apiPort),
      API_PUBLIC_URL: `http://127.0.0.1:${o.apiPort}`,
      AUTH_MODE: 'jwt',
      AUTH_PUBLIC_KEY_FILE: auth.publicKeyFile,
      FIRMWARE_DIR: join(dataDir, 'firmware'),
    });
    if (!store) {
      store = openStore(collectorConfig, { log: o.log, name: 'bosfleet-demo' });
      const s = store;
      stops.push(() => s.close());
    }
    checkpoint();
    const running = await startOneProcess({
      store,
      collectorConfig,
      apiConfig,
      log: o.log,
      env: process.env,
      listenSettings: { api: '--port', metrics: '--metrics-port' },
    });
    stops.push(() => running.stop());
    checkpoint();
    const { api, collector } = running;

    const token = await auth.mint({ sub: 'demo-operator', tenant, roles: ['operator'], ttlMs: 12 * 3_600_000, issuer: apiConfig.AUTH_ISSUER, audience: apiConfig.AUTH_AUDIENCE });
    const loginCode = await new ConsoleSessions(api.infra.store.sessions).mintLoginCode(token);
    return {
      apiUrl: api.url,
      consoleLoginUrl: `${api.url}/login?code=${loginCode}`,
      docsUrl: `${api.url}/docs`,
      mcpUrl: `${api.url}/mcp`,
      apiMetricsUrl: `${api.url}/metrics`,
      collectorMetricsUrl: `http://127.0.0.1:${collector.httpPort}/metrics`,
      token,
      tenant,
      miners: fleet.miners.length,
      store: { backend: store.backend, location: store.location },
      influxUrl,
      redisUrl,
      fleet,
      stop: stopAll,
    };
  } catch (err) {
    await stopAll();
    throw err;
  }
}

/** The keys openStore reads, from the raw configuration (the demo sets the backend and folder itself). */
function storeKeysOf(raw: RawConfig) {
  return parseConfig(collectorConfigSchema.pick({ REDIS_URL: true, REDIS_PREFIX: true, INFLUX_URL: true, INFLUX_DB: true, INFLUX_FLAVOUR: true, INFLUX_AUTH: true, INFLUX_USERNAME: true, INFLUX_PASSWORD: true, INFLUX_TOKEN: true, INFLUX_TIMEOUT_MS: true }), raw);
}

/** Binds and releases host:port, so a taken address is one line before anything starts. */
async function assertFree(host: string, port: number, what: string, settings: string): Promise<void> {
  await new Promise<void>((resolveFree, reject) => {
    const srv = createServer();
    srv.once('error', (err: NodeJS.ErrnoException) =>
      reject(
        err.code === 'EADDRINUSE'
          ? new ListenError('port_in_use', `${what} cannot listen on ${host}:${port}: in use (another demo running?). Stop it, or choose other addresses with ${settings}.`, err)
          : listenError(err, { what, host, port, settings }),
      ),
    );
    srv.listen(port, host, () => srv.close(() => resolveFree()));
  });
}

export function demoDataDir(): string {
  return resolve('.data', 'demo');
}
