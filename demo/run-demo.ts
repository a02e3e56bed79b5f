import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { apiConfigSchema } from '../api/config.ts';
import { generateKeyFiles, mintToken, parsePrivateKey } from '../api/auth/keys.ts';
import { startApiServer, type ApiServer } from '../api/server.ts';
import { ConsoleSessions } from '../console/sessions.ts';
import { fullApiExtension } from '../api/wiring.ts';
import { startCollector, type CollectorHandle } from '../collector/collector-service.ts';
import { parseConfig, readRawConfig } from '../runtime/config-loader.ts';
import { collectorConfigSchema } from '../collector/config.ts';
import type { Logger } from '../runtime/logger.ts';
import { startSimulator, type SimulatedFleet } from '../simulator/index.ts';
import { hasBinary, startLocalInflux, startLocalRedis, type LocalService } from './local-services.ts';

/**
 * The whole product on loopback in one process: a simulated fleet, the collector, the API with
 * MCP over HTTP. InfluxDB and Redis come from INFLUX_URL/REDIS_URL, else local binaries are
 * started, else the demo says what to install.
 */
export interface DemoOptions {
  miners: number;
  faults: string;
  apiPort: number;
  metricsPort: number;
  dataDir: string;
  seed: number;
  log: Logger;
  env?: NodeJS.ProcessEnv;
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
  influxUrl: string;
  redisUrl: string;
  fleet: SimulatedFleet;
  stop(): Promise<void>;
}

export class DemoSetupError extends Error {}

export async function startDemo(o: DemoOptions): Promise<Demo> {
  const env = o.env ?? process.env;
  const stops: (() => Promise<void>)[] = [];
  const stopAll = async (): Promise<void> => {
    for (const s of stops.reverse()) await s().catch(err => o.log.warn({ err: (err as Error).message }, 'demo: stop step failed'));
  };
  try {
    const services: LocalService[] = [];
    let influxUrl = env.INFLUX_URL;
    let redisUrl = env.REDIS_URL;
    const missing = [!influxUrl && !hasBinary('influxd') ? 'influxdb' : null, !redisUrl && !hasBinary('redis-server') ? 'redis-server' : null].filter(Boolean);
    if (missing.length > 0) {
      throw new DemoSetupError(
        `the demo needs InfluxDB and Redis. Either set INFLUX_URL and REDIS_URL to running servers, or install them: apt-get install -y ${missing.join(' ')}`,
      );
    }
    if (!influxUrl) {
      const s = await startLocalInflux({ ownProcessGroup: true });
      services.push(s);
      influxUrl = s.url;
    }
    if (!redisUrl) {
      const s = await startLocalRedis({ ownProcessGroup: true });
      services.push(s);
      redisUrl = s.url;
    }
    stops.push(async () => {
      for (const s of services) await s.destroy();
    });

    const fleet = await startSimulator({ miners: o.miners, seed: o.seed, faults: o.faults, sites: 2, baseAddress: '127.77.0.1', rebootMs: 10_000, logger: o.log });
    stops.push(() => fleet.stop());
    mkdirSync(o.dataDir, { recursive: true });
    const inventory = join(o.dataDir, 'inventory.yaml');
    await fleet.writeInventory(inventory);

    const keysDir = join(o.dataDir, 'keys');
    if (!existsSync(join(keysDir, 'private.pem'))) await generateKeyFiles(keysDir, 'ES256');
    const tenant = fleet.miners[0]!.tenant;

    // The simulated miners use root/root; the inventory names MINER_PASSWORD for it.
    process.env.MINER_PASSWORD ??= 'root';
    const raw: Record<string, string | undefined> = { ...readRawConfig(env), INFLUX_URL: influxUrl, REDIS_URL: redisUrl, COLLECTOR_INVENTORY_FILE: inventory };
    const collectorConfig = parseConfig(collectorConfigSchema, {
      ...raw,
      COLLECTOR_HTTP_PORT: String(o.metricsPort),
      COLLECTOR_POLL_INTERVAL_MS: raw.COLLECTOR_POLL_INTERVAL_MS ?? '5000',
    });
    const collector: CollectorHandle = await startCollector(collectorConfig, { log: o.log.child({ component: 'collector' }), env: process.env, listenSettings: '--metrics-port' });
    stops.push(() => collector.stop());

    const apiConfig = parseConfig(apiConfigSchema, {
      ...raw,
      API_PORT: String(o.apiPort),
      API_PUBLIC_URL: `http://127.0.0.1:${o.apiPort}`,
      AUTH_MODE: 'jwt',
      AUTH_PUBLIC_KEY_FILE: join(keysDir, 'public.pem'),
      FIRMWARE_DIR: join(o.dataDir, 'firmware'),
    });
    const api: ApiServer = await startApiServer(apiConfig, {
      log: o.log.child({ component: 'api' }),
      handleSignals: false,
      listenSettings: '--port',
      env: { ...env, COLLECTOR_POLL_INTERVAL_MS: String(collectorConfig.COLLECTOR_POLL_INTERVAL_MS) },
      extension: fullApiExtension(),
    });
    stops.push(() => api.close());

    const token = await mintToken({
      privateKey: parsePrivateKey(readFileSync(join(keysDir, 'private.pem'), 'utf8'), 'demo key'),
      sub: 'demo-operator',
      tenant,
      roles: ['operator'],
      ttlMs: 12 * 3_600_000,
      issuer: apiConfig.AUTH_ISSUER,
      audience: apiConfig.AUTH_AUDIENCE,
    });
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

export function demoDataDir(): string {
  return resolve('.data', 'demo');
}
