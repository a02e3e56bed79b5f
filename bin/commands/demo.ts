import { createLogger } from '../../runtime/logger.ts';
import { demoDataDir, DemoSetupError, startDemo } from '../../demo/run-demo.ts';
import { intOption, UsageError, type CliCommand } from '../command.ts';

export const demoCommand: CliCommand = {
  name: 'demo',
  summary: 'Run the whole product on loopback: a simulated fleet, the collector, the API with MCP over HTTP.',
  description:
    'InfluxDB and Redis come from INFLUX_URL / REDIS_URL when set; otherwise influxd and redis-server are\n' +
    'started from the installed Debian packages with temporary data, or the demo says what to install.\n' +
    'Prints where the API docs, the metrics and the MCP endpoint are, and a ready-made operator token.\n' +
    'Stops cleanly on Ctrl+C (the local servers last until the collector has flushed to them); a second\n' +
    'Ctrl+C exits at once.',
  options: {
    miners: { type: 'string', description: 'Number of simulated miners.', default: '36' },
    faults: { type: 'string', description: "Simulator fault spec (see 'bos-fleet simulator --help').", default: 'overheat:1,hashboard_failure:1,unreachable:1,low_hashrate:1' },
    port: { type: 'string', description: 'API port.', default: '8080' },
    'metrics-port': { type: 'string', description: 'Collector /metrics port.', default: '9464' },
    seed: { type: 'string', description: 'Simulator seed.', default: '7' },
    json: { type: 'boolean', description: 'Print one JSON "ready" line (for scripts and tests) instead of the banner.' },
  },
  async run(values) {
    const miners = intOption(values, 'miners', 1, 20_000)!;
    const apiPort = intOption(values, 'port', 0, 65_535)!;
    const metricsPort = intOption(values, 'metrics-port', 0, 65_535)!;
    const seed = intOption(values, 'seed', 0, 2 ** 31)!;
    const log = createLogger({ level: process.env.LOG_LEVEL ?? 'warn', name: 'demo', fd: 2 });
    let demo;
    try {
      demo = await startDemo({ miners, faults: String(values.faults), apiPort, metricsPort, seed, dataDir: demoDataDir(), log });
    } catch (err) {
      if (err instanceof DemoSetupError) throw new UsageError(err.message);
      throw err;
    }
    if (values.json === true) {
      process.stdout.write(JSON.stringify({ event: 'ready', api: demo.apiUrl, docs: demo.docsUrl, console_login: demo.consoleLoginUrl, mcp: demo.mcpUrl, metrics: demo.collectorMetricsUrl, api_metrics: demo.apiMetricsUrl, token: demo.token, tenant: demo.tenant, miners: demo.miners, influx: demo.influxUrl, redis: demo.redisUrl }) + '\n');
    } else {
      process.stdout.write(
        [
          '',
          `bos-fleet demo: ${demo.miners} simulated miners (tenant ${demo.tenant}), collector, API and MCP on loopback`,
          `  web console (one-time login link, 15 min)  ${demo.consoleLoginUrl}`,
          `  API docs (Swagger UI)  ${demo.docsUrl}`,
          `  fleet summary          ${demo.apiUrl}/api/v1/fleet/summary`,
          `  MCP (Streamable HTTP)  ${demo.mcpUrl}`,
          `  collector metrics      ${demo.collectorMetricsUrl}`,
          `  API metrics            ${demo.apiMetricsUrl}`,
          `  InfluxDB / Redis       ${demo.influxUrl}  ${demo.redisUrl}`,
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
    await new Promise<void>(resolve => {
      const stop = (): void => {
        process.off('SIGINT', stop);
        process.off('SIGTERM', stop);
        // A second signal does not wait for the graceful stop; the exit hook kills the local servers.
        const force = (): void => process.exit(130);
        process.once('SIGINT', force);
        process.once('SIGTERM', force);
        void demo.stop().then(() => {
          process.off('SIGINT', force);
          process.off('SIGTERM', force);
          resolve();
        });
      };
      process.on('SIGINT', stop);
      process.on('SIGTERM', stop);
    });
    if (values.json === true) process.stdout.write(JSON.stringify({ event: 'stopped' }) + '\n');
  },
};
