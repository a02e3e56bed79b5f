import { createLogger } from '../../runtime/logger.ts';
import { DEFAULT_FLEET_ADDRESS, demoDataDir, DemoInterrupted, DemoSetupError, startDemo } from '../../demo/run-demo.ts';
import { storeLine } from '../../store/open-store.ts';
import type { StoreBackend } from '../../store/store.ts';
import { intOption, UsageError, type CliCommand } from '../command.ts';
import { STORE_OPTIONS, storeOverrides } from '../store-options.ts';

export const demoCommand: CliCommand = {
  name: 'demo',
  summary: 'Run the whole product on loopback: a simulated fleet, the collector, the API with MCP over HTTP, the console.',
  description:
    'Everything runs in this one process on the embedded store (a data folder; nothing to install). With\n' +
    '--store influx-redis, InfluxDB and Redis come from INFLUX_URL / REDIS_URL when set; otherwise influxd and\n' +
    'redis-server are started from the installed Debian packages with temporary data.\n' +
    'Prints where the console, the API docs, the metrics and the MCP endpoint are, and an operator token.\n' +
    'Stops cleanly on Ctrl+C, also while starting; a second Ctrl+C exits at once.',
  options: {
    miners: { type: 'string', description: 'Number of simulated miners.', default: '36' },
    faults: { type: 'string', description: "Simulator fault spec (see 'bos-fleet simulator --help').", default: 'overheat:1,hashboard_failure:1,unreachable:1,low_hashrate:1' },
    port: { type: 'string', description: 'API port.', default: '8080' },
    'metrics-port': { type: 'string', description: 'Collector /metrics port.', default: '9464' },
    seed: { type: 'string', description: 'Simulator seed.', default: '7' },
    'fleet-address': { type: 'string', description: 'First loopback address of the simulated miners (one address each, port 50051).', default: DEFAULT_FLEET_ADDRESS },
    json: { type: 'boolean', description: 'Print one JSON "ready" line (for scripts and tests) instead of the banner.' },
    store: STORE_OPTIONS.store,
    'data-dir': { type: 'string', description: 'Folder of the demo: inventory, signing keys and the embedded store.', default: '.data/demo' },
  },
  async run(values) {
    const miners = intOption(values, 'miners', 1, 20_000)!;
    const apiPort = intOption(values, 'port', 0, 65_535)!;
    const metricsPort = intOption(values, 'metrics-port', 0, 65_535)!;
    const seed = intOption(values, 'seed', 0, 2 ** 31)!;
    const fleetAddress = String(values['fleet-address']);
    if (!/^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(fleetAddress)) throw new UsageError(`--fleet-address=${fleetAddress}: expected a loopback address 127.x.y.z`);
    const store = storeOverrides({ store: values.store }).BOSFLEET_STORE as StoreBackend | undefined;
    const log = createLogger({ level: process.env.LOG_LEVEL ?? 'warn', name: 'demo', fd: 2 });

    // Ctrl+C while starting stops what has started (local servers, temp folders, the store's lock).
    const starting = new AbortController();
    const interruptStart = (): void => starting.abort();
    process.on('SIGINT', interruptStart);
    process.on('SIGTERM', interruptStart);
    let demo;
    try {
      demo = await startDemo({ miners, faults: String(values.faults), apiPort, metricsPort, seed, fleetAddress, store, dataDir: typeof values['data-dir'] === 'string' ? values['data-dir'] : demoDataDir(), log, signal: starting.signal });
    } catch (err) {
      // A local server abandoned because of the same Ctrl+C is the interruption, not an error.
      if (err instanceof DemoInterrupted || starting.signal.aborted) {
        if (values.json === true) process.stdout.write(JSON.stringify({ event: 'stopped' }) + '\n');
        return 130;
      }
      if (err instanceof DemoSetupError) throw new UsageError(err.message);
      throw err;
    } finally {
      process.off('SIGINT', interruptStart);
      process.off('SIGTERM', interruptStart);
    }
    if (starting.signal.aborted) {
      await demo.stop();
      return 130;
    }
    if (values.json === true) {
      process.stdout.write(JSON.stringify({ event: 'ready', api: demo.apiUrl, docs: demo.docsUrl, console_login: demo.consoleLoginUrl, mcp: demo.mcpUrl, metrics: demo.collectorMetricsUrl, api_metrics: demo.apiMetricsUrl, token: demo.token, tenant: demo.tenant, miners: demo.miners, store: demo.store.backend, store_location: demo.store.location, influx: demo.influxUrl, redis: demo.redisUrl }) + '\n');
    } else {
      process.stdout.write(
        [
          '',
          `bos-fleet demo: ${demo.miners} simulated miners (tenant ${demo.tenant}), collector, API and MCP on loopback`,
          `  ${storeLine(demo.store)}`,
          `  web console (one-time login link, 15 min)  ${demo.consoleLoginUrl}`,
          `  API docs (Swagger UI)  ${demo.docsUrl}`,
          `  fleet summary          ${demo.apiUrl}/api/v1/fleet/summary`,
          `  MCP (Streamable HTTP)  ${demo.mcpUrl}`,
          `  collector metrics      ${demo.collectorMetricsUrl}`,
          `  API metrics            ${demo.apiMetricsUrl}`,
          ...(demo.influxUrl ? [`  InfluxDB / Redis       ${demo.influxUrl}  ${demo.redisUrl}`] : []),
          '',
          '  operator token (12 h):',
          `  ${demo.token}`,
          '',
          `  try: curl -H "Authorization: Bearer $TOKEN" ${demo.apiUrl}/api/v1/fleet/summary`,
          '  The first figures appear after one poll cycle (5 s). Press Ctrl+C to stop.',
          '',
        ].join('\n'),
      );
    }
    await waitForStopSignal(() => demo.stop());
    if (values.json === true) process.stdout.write(JSON.stringify({ event: 'stopped' }) + '\n');
    return 0;
  },
};

/** Resolves once a SIGINT/SIGTERM has stopped `stop`; a second signal exits at once (130). */
export async function waitForStopSignal(stop: () => Promise<void>): Promise<void> {
  await new Promise<void>(resolve => {
    const first = (): void => {
      process.off('SIGINT', first);
      process.off('SIGTERM', first);
      // A second signal does not wait for the graceful stop; the exit hook kills the local servers.
      const force = (): void => process.exit(130);
      process.once('SIGINT', force);
      process.once('SIGTERM', force);
      void stop().then(() => {
        process.off('SIGINT', force);
        process.off('SIGTERM', force);
        resolve();
      });
    };
    process.on('SIGINT', first);
    process.on('SIGTERM', first);
  });
}
