#!/usr/bin/env node
import { ConfigError, readRawConfig } from '../runtime/config-loader.ts';
import { parseCommandArgs, renderHelp, UsageError, type CliCommand } from './command.ts';
import { ListenError } from '../runtime/listen-error.ts';
import { isFleetError } from '../core/errors.ts';

const COMMANDS: Record<string, { summary: string; load: () => Promise<CliCommand> }> = {
  start: { summary: 'Run collector, API, MCP over HTTP and console in one process (embedded store by default).', load: async () => (await import('./commands/start.ts')).startCommand },
  demo: { summary: 'Run the whole product on loopback: simulated fleet, collector, API with MCP.', load: async () => (await import('./commands/demo.ts')).demoCommand },
  simulator: { summary: 'Serve a virtual fleet of Braiins OS miners over the real gRPC API.', load: async () => (await import('./commands/simulator.ts')).simulatorCommand },
  collector: { summary: 'Poll the fleet into the store (a farm runs it apart from the API).', load: async () => (await import('./commands/collector.ts')).collectorCommand },
  api: { summary: 'Serve the REST API, OpenAPI docs, /metrics and MCP over HTTP.', load: async () => (await import('./commands/api.ts')).apiCommand },
  mcp: { summary: 'Serve the MCP server over stdio (for Claude Desktop and similar clients).', load: async () => (await import('./commands/mcp.ts')).mcpCommand },
  export: { summary: 'Write stored series and events as InfluxDB line protocol.', load: async () => (await import('./commands/transfer.ts')).exportCommand },
  import: { summary: 'Write line protocol (from export) into the configured store.', load: async () => (await import('./commands/transfer.ts')).importCommand },
  token: { summary: 'Mint a JWT from a local private key for self-hosted setups.', load: async () => (await import('./commands/token.ts')).tokenCommand },
};

/** the commands that read the project's configuration (the demo and the simulator set their own) */
const READS_CONFIG = new Set(['start', 'collector', 'api', 'mcp', 'export', 'import']);

async function warnUnknownConfig(): Promise<void> {
  let raw;
  try {
    raw = readRawConfig(process.env);
  } catch {
    return; // the command reports a bad BOS_FLEET_CONFIG itself
  }
  const { unknownConfigWarnings } = await import('./config-keys.ts');
  for (const w of unknownConfigWarnings(raw)) process.stderr.write(`bos-fleet: warning: ${w}\n`);
}

function mainHelp(): string {
  const lines = ['Usage: bos-fleet <command> [options]', '', 'Telemetry, analytics and control for fleets of Braiins OS miners.', '', 'Commands:'];
  for (const [name, c] of Object.entries(COMMANDS)) lines.push(`  ${name.padEnd(12)} ${c.summary}`);
  lines.push('', "Run 'bos-fleet <command> --help' for a command's options. Configuration comes from the", 'environment and an optional file named by BOS_FLEET_CONFIG; see .env.example.');
  return lines.join('\n');
}

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(mainHelp() + '\n');
    return name ? 0 : 1;
  }
  if (name === '--version') {
    process.stdout.write('bos-fleet 0.1.0\n');
    return 0;
  }
  const entry = COMMANDS[name];
  if (!entry) {
    process.stderr.write(`unknown command '${name}'\n\n${mainHelp()}\n`);
    return 2;
  }
  const cmd = await entry.load();
  const parsed = parseCommandArgs(cmd, rest);
  if (parsed.help) {
    process.stdout.write(renderHelp(cmd) + '\n');
    return 0;
  }
  if (READS_CONFIG.has(name)) await warnUnknownConfig();
  const code = await cmd.run(parsed.values, parsed.positionals);
  return typeof code === 'number' ? code : 0;
}

/** FleetErrors a user causes and fixes (a data folder in use, a server not reachable): their message is the whole story. */
const ONE_LINE_CODES = new Set(['conflict', 'unavailable', 'invalid_argument', 'not_found']);

main(process.argv.slice(2)).then(
  code => {
    if (code !== 0) process.exitCode = code;
  },
  (err: unknown) => {
    let code = 1;
    if (err instanceof UsageError || err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      code = 2;
    } else if (err instanceof ListenError || (isFleetError(err) && ONE_LINE_CODES.has(err.code))) {
      process.stderr.write(`bos-fleet: ${err.message}\n`);
    } else {
      process.stderr.write(`bos-fleet: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    }
    // A start that failed half-way may leave a reconnecting client or a retry timer behind; the
    // message is out (stderr is synchronous on files and pipes), so nothing is worth waiting for.
    process.exit(code);
  },
);
