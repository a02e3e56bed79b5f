import { startApiServer } from '../../api/server.ts';
import { fullApiExtension } from '../../api/wiring.ts';
import { loadApiConfig } from '../../api/config.ts';
import { intOption, type CliCommand } from '../command.ts';
import { announceStore, STORE_OPTIONS, storeOverrides } from '../store-options.ts';

export const apiCommand: CliCommand = {
  name: 'api',
  summary: 'Serve the REST API, OpenAPI docs (/docs), /metrics and health checks.',
  description: [
    'Configuration comes from the environment or the file named by BOS_FLEET_CONFIG (see .env.example):',
    '  API_HOST, API_PORT, API_PUBLIC_URL       where to listen and the public base URL',
    '  BOSFLEET_STORE, BOSFLEET_DATA_DIR       the store (embedded: one process only; see bos-fleet start)',
    '  INFLUX_*, REDIS_*                       the stores the collector writes',
    '  AUTH_MODE=jwt|none                      bearer JWTs (default) or a fixed caller on loopback',
    '  AUTH_JWKS_URL | AUTH_PUBLIC_KEY[_FILE]  how tokens are verified (AUTH_ISSUER, AUTH_AUDIENCE)',
    '  RATE_LIMIT_MAX, RATE_LIMIT_CONTROL_MAX, RATE_LIMIT_AUTH_FAILURES_MAX, RATE_LIMIT_WINDOW_MS',
    "No identity provider? 'bos-fleet token --generate-key ./keys' creates a keypair and mints tokens.",
    'Stops gracefully on SIGINT/SIGTERM.',
  ].join('\n'),
  options: {
    host: { type: 'string', description: 'Address to listen on (overrides API_HOST).' },
    port: { type: 'string', description: 'Port to listen on, 0 for any free port (overrides API_PORT).' },
    ...STORE_OPTIONS,
  },
  async run(values) {
    const config = loadApiConfig({ ...process.env, ...storeOverrides(values) });
    const port = intOption(values, 'port', 0, 65_535);
    const host = typeof values.host === 'string' ? values.host : undefined;
    const server = await startApiServer(config, { host, port, extension: fullApiExtension() });
    announceStore(server.infra.store);
    await server.closed;
    return 0;
  },
};
