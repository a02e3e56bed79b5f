// `bos-fleet simulator`: serve a virtual fleet of Braiins OS miners over the real gRPC API.
import path from 'node:path';

import { createLogger } from '../../runtime/logger.ts';
import {
  FAULT_SPEC_HELP,
  SIMULATOR_TRANSPORTS,
  isSimulatorTransport,
  startSimulator,
  type SimulatorOptions,
} from '../../simulator/index.ts';
import { API_VERSION } from '../../simulator/index.ts';
import { intOption, UsageError, type CliCommand } from '../command.ts';

function str(values: Record<string, unknown>, name: string): string | undefined {
  const v = values[name];
  return typeof v === 'string' ? v : undefined;
}

function counts(record: Record<string, number>): string {
  return Object.entries(record)
    .map(([k, n]) => `${k} ${n}`)
    .join(', ');
}

export const simulatorCommand: CliCommand = {
  name: 'simulator',
  summary: 'Serve a virtual fleet of Braiins OS miners over the real gRPC API (plaintext, loopback).',
  description: [
    'Each miner listens on its own loopback address (127.1.0.1:50051, 127.1.0.2:50051, ...; Linux',
    'routes all of 127.0.0.0/8 to lo) or, with --port-mode, on its own port of 127.0.0.1. Miners',
    'have deterministic identities from --seed, realistic physics (hashrate follows the power target,',
    'temperatures follow load and fans) and log in with root/<--password>. The process runs until',
    'SIGINT/SIGTERM. With --inventory-out it writes an inventory file for the collector (JSON, or YAML',
    'for .yaml/.yml); its credentials read the password from $MINER_PASSWORD.',
    '',
    FAULT_SPEC_HELP,
    '',
    'Admin HTTP (--admin-port, 127.0.0.1 only): GET /miners, GET /miners/:id (ground truth),',
    'POST /miners/:id/faults {"fault":"slow","delay_ms":2000}, DELETE /miners/:id/faults/:fault,',
    'DELETE /miners/:id/faults, POST /miners/:id/reboot, GET /stats.',
  ].join('\n'),
  options: {
    miners: { type: 'string', short: 'n', description: 'Number of miners (1-100000).', default: '10' },
    seed: {
      type: 'string',
      description: 'Seed for identities, model/site assignment, fault picks and noise.',
      default: '1',
    },
    faults: {
      type: 'string',
      description: 'Faults at start, e.g. overheat:2,unreachable:1,slow=3000@sim-0004 (syntax above).',
    },
    models: {
      type: 'string',
      description: 'Model mix by weight: s19jpro, s19xp, s21, s9.',
      default: 's19jpro:50,s21:30,s19xp:15,s9:5',
    },
    sites: {
      type: 'string',
      description: 'Number of sites (site-1, site-2, ... in contiguous blocks).',
      default: '1',
    },
    tenants: {
      type: 'string',
      description: 'Number of tenants (tenant-1, ... assigned per rack).',
      default: '1',
    },
    'rack-size': {
      type: 'string',
      description: 'Miners per rack (label rack=r01, r02, ...).',
      default: '40',
    },
    'base-address': {
      type: 'string',
      description:
        'First miner address; later miners count up (skipping .0/.255). Port mode: the shared address.',
      default: '127.1.0.1',
    },
    port: {
      type: 'string',
      description: 'gRPC port of every miner; in --port-mode the first port.',
      default: '50051',
    },
    'port-mode': {
      type: 'boolean',
      description: 'All miners on 127.0.0.1 (or --base-address) with consecutive ports instead.',
    },
    password: { type: 'string', description: 'Login password of every miner (user root).', default: 'root' },
    'reboot-ms': {
      type: 'string',
      description: 'How long a reboot/upgrade keeps a miner unreachable, ms.',
      default: '20000',
    },
    'retune-ms': {
      type: 'string',
      description: 'How long a power/hashrate target change keeps the tuner TUNING, ms.',
      default: '8000',
    },
    'token-timeout-s': {
      type: 'string',
      description: 'Session token inactivity timeout, s (sliding).',
      default: '3600',
    },
    firmware: {
      type: 'string',
      description: 'Firmware version of every miner (default: a mix of 26.05 and 26.01).',
    },
    'inventory-out': {
      type: 'string',
      description: 'Write the inventory file (collector format) to this path.',
    },
    'admin-port': {
      type: 'string',
      description: 'Serve the admin HTTP endpoint on 127.0.0.1:<port> (0 = any free port).',
    },
    transport: {
      type: 'string',
      description:
        'Server side of the gRPC API: http2 (plain node:http2, cheap) or grpc-js (@grpc/grpc-js server).',
      default: 'http2',
    },
    json: {
      type: 'boolean',
      description: 'Print one machine-readable JSON "ready" line instead of the summary.',
    },
  },

  async run(values) {
    const portMode = values['port-mode'] === true;
    const baseAddress = str(values, 'base-address');
    const adminPort = intOption(values, 'admin-port', 0, 65_535);
    const transport = str(values, 'transport') ?? 'http2';
    if (!isSimulatorTransport(transport))
      throw new UsageError(`--transport must be one of ${SIMULATOR_TRANSPORTS.join(', ')}, got '${transport}'`);
    const options: SimulatorOptions = {
      miners: intOption(values, 'miners', 1, 100_000),
      seed: str(values, 'seed') ?? '1',
      models: str(values, 'models'),
      sites: intOption(values, 'sites', 1, 1_000),
      tenants: intOption(values, 'tenants', 1, 1_000),
      rackSize: intOption(values, 'rack-size', 1, 10_000),
      port: intOption(values, 'port', 1, 65_535),
      portMode,
      ...(baseAddress && !(portMode && baseAddress === '127.1.0.1') ? { baseAddress } : {}),
      password: str(values, 'password') ?? 'root',
      rebootMs: intOption(values, 'reboot-ms', 0, 3_600_000),
      retuneMs: intOption(values, 'retune-ms', 0, 3_600_000),
      tokenTimeoutS: intOption(values, 'token-timeout-s', 1, 31_536_000),
      ...(str(values, 'firmware') ? { firmware: str(values, 'firmware') } : {}),
      ...(str(values, 'faults') ? { faults: str(values, 'faults') } : {}),
      ...(adminPort !== undefined ? { adminPort } : {}),
      transport,
      logger: createLogger({ name: 'simulator', fd: 2 }),
    };

    let fleet;
    try {
      fleet = await startSimulator(options);
    } catch (err) {
      const message = (err as Error).message;
      if (/must be|unknown|bad |not an IPv4|leave 127|no miner|port mode|fault|model/i.test(message))
        throw new UsageError(message);
      throw err;
    }
    const inventoryOut = str(values, 'inventory-out');
    if (inventoryOut) await fleet.writeInventory(inventoryOut);

    const s = fleet.summary();
    if (values.json === true) {
      process.stdout.write(
        `${JSON.stringify({
          event: 'ready',
          pid: process.pid,
          miners: s.miners,
          first_address: s.firstAddress,
          last_address: s.lastAddress,
          port_mode: s.portMode,
          api_version: `${API_VERSION.major}.${API_VERSION.minor}.${API_VERSION.patch}`,
          models: s.models,
          sites: s.sites,
          tenants: s.tenants,
          faults: s.faults,
          inventory: inventoryOut ? path.resolve(inventoryOut) : null,
          admin_url: fleet.adminUrl ?? null,
        })}\n`,
      );
    } else {
      const faultText =
        s.faults.length === 0
          ? 'none'
          : s.faults
              .slice(0, 12)
              .map(f => `${f.id} (${f.faults.join(', ')})`)
              .join('; ') + (s.faults.length > 12 ? `; … ${s.faults.length - 12} more` : '');
      const lines = [
        `bos-fleet simulator: ${s.miners} virtual Braiins OS miners, API ${API_VERSION.major}.${API_VERSION.minor}.${API_VERSION.patch}, plaintext gRPC`,
        `  addresses  ${s.firstAddress} … ${s.lastAddress}${s.portMode ? ' (one port per miner)' : ' (one loopback address per miner)'}`,
        `  models     ${counts(s.models)}`,
        `  sites      ${counts(s.sites)}`,
        `  tenants    ${counts(s.tenants)}`,
        `  login      user root, password from --password (${options.password === 'root' ? 'default root' : 'custom'})`,
        `  faults     ${faultText}`,
        `  inventory  ${inventoryOut ? path.resolve(inventoryOut) : '(not written; use --inventory-out)'}`,
        ...(fleet.adminUrl ? [`  admin      ${fleet.adminUrl}`] : []),
        'Press Ctrl+C to stop.',
      ];
      process.stdout.write(`${lines.join('\n')}\n`);
    }

    const signal = await new Promise<NodeJS.Signals>(resolve => {
      process.once('SIGINT', () => resolve('SIGINT'));
      process.once('SIGTERM', () => resolve('SIGTERM'));
    });
    fleet.logger.info({ signal }, 'stopping simulator');
    await fleet.stop();
    if (values.json === true) process.stdout.write(`${JSON.stringify({ event: 'stopped', signal })}\n`);
    return 0;
  },
};
