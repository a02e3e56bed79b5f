import { setFlagsFromString } from 'node:v8';
import closeWithGrace from 'close-with-grace';
import { startCollector } from '../../collector/collector-service.ts';
import { loadCollectorConfig } from '../../collector/config.ts';
import { createLogger } from '../../runtime/logger.ts';
import { openStore } from '../../store/open-store.ts';
import { intOption, type CliCommand } from '../command.ts';
import { announceStore, STORE_OPTIONS, storeOverrides } from '../store-options.ts';

export const collectorCommand: CliCommand = {
  name: 'collector',
  summary: 'Poll every miner in the inventory over the Braiins OS gRPC API into the store (InfluxDB + Redis, or the embedded store).',
  description:
    'Configuration comes from the environment (COLLECTOR_*, INFLUX_*, REDIS_*, MINER_*; see .env.example) and the\n' +
    'optional file named by BOS_FLEET_CONFIG. Options given here override those. SIGINT/SIGTERM stop scheduling,\n' +
    'finish in-flight polls and flush everything written before exiting. For a farm with several processes;\n' +
    "on one machine 'bos-fleet start' runs the collector, the API and MCP in one process.",

  options: {
    inventory: { type: 'string', description: 'Inventory file (YAML or JSON): miners, credentials references, sites, CIDR scans. Env: COLLECTOR_INVENTORY_FILE.' },
    interval: { type: 'string', description: 'Poll interval in milliseconds. Env: COLLECTOR_POLL_INTERVAL_MS (default 10000).' },
    concurrency: { type: 'string', description: 'Most polls in flight fleet-wide. Env: COLLECTOR_CONCURRENCY (default 256).' },
    'metrics-port': { type: 'string', description: 'Port of /metrics and /health. Env: COLLECTOR_HTTP_PORT (default 9464).' },
    ...STORE_OPTIONS,
  },
  async run(values) {
    const env: NodeJS.ProcessEnv = { ...process.env };
    if (typeof values.inventory === 'string') env.COLLECTOR_INVENTORY_FILE = values.inventory;
    const interval = intOption(values, 'interval', 1_000, 3_600_000);
    if (interval !== undefined) env.COLLECTOR_POLL_INTERVAL_MS = String(interval);
    const concurrency = intOption(values, 'concurrency', 1, 10_000);
    if (concurrency !== undefined) env.COLLECTOR_CONCURRENCY = String(concurrency);
    const port = intOption(values, 'metrics-port', 0, 65_535);
    if (port !== undefined) env.COLLECTOR_HTTP_PORT = String(port);
    Object.assign(env, storeOverrides(values));
    const config = loadCollectorConfig(env);
    const log = createLogger({ level: config.LOG_LEVEL, name: 'collector' });
    // V8 otherwise lets the old space grow to several times the live heap between full GCs; with one
    // gRPC channel per miner that headroom is most of the collector's memory (bench/README.md).
    if (config.COLLECTOR_HEAP_GROWING_PCT > 0) setFlagsFromString(`--heap-growing-percent=${config.COLLECTOR_HEAP_GROWING_PCT}`);
    const store = openStore(config, { log, name: 'bosfleet-collector' });
    let collector;
    try {
      collector = await startCollector(config, { log, env, store });
    } catch (err) {
      // Not awaited: the embedded lock is released at once; a Redis that is down would never answer QUIT.
      void store.close().catch(() => undefined);
      throw err;
    }
    announceStore(store);
    await new Promise<void>(resolve => {
      closeWithGrace({ delay: 60_000 }, async ({ signal, err }) => {
        if (err) log.error({ err: err.message }, 'collector failing; shutting down');
        else log.info({ signal }, 'shutting down');
        await collector.stop();
        await store.close();
        resolve();
      });
    });
  },
};
