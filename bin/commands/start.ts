import { join, resolve } from 'node:path';
import { apiConfigSchema } from '../../api/config.ts';
import { collectorConfigSchema } from '../../collector/config.ts';
import { ConsoleSessions } from '../../console/sessions.ts';
import { parseConfig, readRawConfig, type RawConfig } from '../../runtime/config-loader.ts';
import { localAuth } from '../../runtime/local-auth.ts';
import { createLogger } from '../../runtime/logger.ts';
import { startOneProcess } from '../../runtime/one-process.ts';
import { dataDirOf, openStore, storeLine } from '../../store/open-store.ts';
import { intOption, type CliCommand } from '../command.ts';
import { STORE_OPTIONS, storeOverrides } from '../store-options.ts';
import { waitForStopSignal } from './demo.ts';

const TOKEN_TTL_MS = 30 * 24 * 3_600_000;

export const startCommand: CliCommand = {
  name: 'start',
  summary: 'Run the collector, the API, MCP over HTTP and the console in one process on one store.',
  description: [
    'The way to run bos-fleet on one machine. The store is embedded by default (one data folder, nothing to',
    'install; a second process on the same folder is refused); --store influx-redis runs the same process on',
    'InfluxDB and Redis. Miners come from the inventory file (--inventory) and the inventory API, as for',
    "'bos-fleet collector'. Configuration otherwise comes from the environment and BOS_FLEET_CONFIG (.env.example).",
    'Without AUTH_JWKS_URL / AUTH_PUBLIC_KEY[_FILE], a signing key is made in <data folder>/keys and an admin',
    'token for --tenant is printed, with a one-time console login link. Stops cleanly on SIGINT/SIGTERM.',
  ].join('\n'),
  options: {
    inventory: { type: 'string', description: 'Inventory file (YAML or JSON). Env: COLLECTOR_INVENTORY_FILE.' },
    host: { type: 'string', description: 'Address of the API, MCP and console. Env: API_HOST (default 127.0.0.1).' },
    port: { type: 'string', description: 'Port of the API, MCP and console, 0 for any. Env: API_PORT (default 8080).' },
    'metrics-port': { type: 'string', description: "Port of the collector's /metrics and /health. Env: COLLECTOR_HTTP_PORT (default 9464)." },
    interval: { type: 'string', description: 'Poll interval in milliseconds. Env: COLLECTOR_POLL_INTERVAL_MS (default 10000).' },
    tenant: { type: 'string', description: 'Tenant of the printed token (the inventory default is "default").', default: 'default' },
    json: { type: 'boolean', description: 'Print one JSON "ready" line instead of the banner.' },
    ...STORE_OPTIONS,
  },
  async run(values) {
    const flags: RawConfig = { ...storeOverrides(values) };
    if (typeof values.inventory === 'string') flags.COLLECTOR_INVENTORY_FILE = resolve(values.inventory);
    if (typeof values.host === 'string') flags.API_HOST = values.host;
    const port = intOption(values, 'port', 0, 65_535);
    if (port !== undefined) flags.API_PORT = String(port);
    const metricsPort = intOption(values, 'metrics-port', 0, 65_535);
    if (metricsPort !== undefined) flags.COLLECTOR_HTTP_PORT = String(metricsPort);
    const interval = intOption(values, 'interval', 1_000, 3_600_000);
    if (interval !== undefined) flags.COLLECTOR_POLL_INTERVAL_MS = String(interval);
    const raw: RawConfig = { ...readRawConfig(process.env), ...flags };

    const collectorConfig = parseConfig(collectorConfigSchema, raw);
    const dataDir = resolve(dataDirOf(collectorConfig));
    const ownKey = !raw.AUTH_MODE && !raw.AUTH_JWKS_URL && !raw.AUTH_PUBLIC_KEY && !raw.AUTH_PUBLIC_KEY_FILE;
    const log = createLogger({ level: collectorConfig.LOG_LEVEL, name: 'bos-fleet', fd: 2 });
    // The lock first: a second process on the same folder stops here with one line.
    const store = openStore(collectorConfig, { log, name: 'bosfleet' });
    try {
      const auth = ownKey ? await localAuth(join(dataDir, 'keys')) : null;
      const apiPort = raw.API_PORT ?? '8080';
      const apiConfig = parseConfig(apiConfigSchema, {
        ...raw,
        BOSFLEET_DATA_DIR: dataDir,
        API_PUBLIC_URL: raw.API_PUBLIC_URL ?? `http://127.0.0.1:${apiPort}`,
        FIRMWARE_DIR: raw.FIRMWARE_DIR ?? join(dataDir, 'firmware'),
        BOSFLEET_SECRET_KEY_FILE: raw.BOSFLEET_SECRET_KEY_FILE ?? join(dataDir, 'secret.key'),
        ...(auth ? { AUTH_MODE: 'jwt', AUTH_PUBLIC_KEY_FILE: auth.publicKeyFile } : {}),
      });
      const running = await startOneProcess({
        store,
        collectorConfig,
        apiConfig,
        log,
        env: process.env,
        listenSettings: { api: '--port / API_PORT', metrics: '--metrics-port / COLLECTOR_HTTP_PORT' },
      });
      const { api } = running;
      const tenant = String(values.tenant);
      const token = auth ? await auth.mint({ sub: 'bos-fleet-start', tenant, roles: ['admin'], ttlMs: TOKEN_TTL_MS, issuer: apiConfig.AUTH_ISSUER, audience: apiConfig.AUTH_AUDIENCE }) : null;
      const login = token ? `${api.url}/login?code=${await new ConsoleSessions(api.infra.store.sessions).mintLoginCode(token)}` : null;
      const miners = running.collector.scheduler.trackers.size;
      if (values.json === true) {
        process.stdout.write(JSON.stringify({ event: 'ready', api: api.url, mcp: `${api.url}/mcp`, console_login: login, token, tenant, miners, store: store.backend, store_location: store.location, metrics: running.collector.httpPort === null ? null : `http://127.0.0.1:${running.collector.httpPort}/metrics` }) + '\n');
      } else {
        process.stdout.write(
          [
            '',
            `bos-fleet: ${miners} miner(s) from the inventory; collector, API, MCP and console in this process`,
            `  ${storeLine(store)}`,
            ...(login ? [`  web console (one-time login link, 15 min)  ${login}`] : [`  web console            ${api.url}/`]),
            `  API docs (Swagger UI)  ${api.url}/docs`,
            `  MCP (Streamable HTTP)  ${api.url}/mcp`,
            ...(token ? ['', `  admin token for tenant ${tenant} (30 days; 'bos-fleet token' mints more):`, `  ${token}`] : []),
            '',
            '  Press Ctrl+C to stop.',
            '',
          ].join('\n'),
        );
      }
      await waitForStopSignal(() => running.stop());
      if (values.json === true) process.stdout.write(JSON.stringify({ event: 'stopped' }) + '\n');
    } catch (err) {
      // Not awaited: the embedded lock is released at once; a Redis that is down would never answer QUIT.
      void store.close().catch(() => undefined);
      throw err;
    }
    await store.close();
    return 0;
  },
};
