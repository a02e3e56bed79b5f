import { parseArgs } from 'node:util';
import { nearest } from './nearest.ts';

/** One `bos-fleet <name>` subcommand: its options are documented here and rendered by --help. */
export interface CliOption {
  type: 'string' | 'boolean';
  description: string;
  short?: string;
  default?: string | boolean;
  multiple?: boolean;
}

export interface CliCommand {
  name: string;
  summary: string;
  /** Longer text shown under the usage line. */
  description?: string;
  options: Record<string, CliOption>;
  run(values: Record<string, string | boolean | string[] | undefined>, positionals: string[]): Promise<number | void>;
}

export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

export function renderHelp(cmd: CliCommand): string {
  const lines = [`Usage: bos-fleet ${cmd.name} [options]`, '', cmd.summary];
  if (cmd.description) lines.push('', cmd.description);
  lines.push('', 'Options:');
  const entries = Object.entries(cmd.options).sort(([a], [b]) => a.localeCompare(b));
  for (const [name, opt] of [...entries, ['help', { type: 'boolean', description: 'Show this help.', short: 'h' } as CliOption] as const]) {
    const flag = `${opt.short ? `-${opt.short}, ` : '    '}--${name}${opt.type === 'string' ? ' <value>' : ''}`;
    const def = opt.default !== undefined && opt.default !== false ? ` (default: ${String(opt.default)})` : '';
    lines.push(`  ${flag.padEnd(30)} ${opt.description}${def}`);
  }
  return lines.join('\n');
}

export function parseCommandArgs(cmd: CliCommand, argv: string[]): { values: Record<string, string | boolean | string[] | undefined>; positionals: string[]; help: boolean } {
  const options: Record<string, { type: 'string' | 'boolean'; short?: string; default?: string | boolean; multiple?: boolean }> = {
    help: { type: 'boolean', short: 'h' },
  };
  for (const [name, o] of Object.entries(cmd.options)) {
    options[name] = { type: o.type, ...(o.short ? { short: o.short } : {}), ...(o.default !== undefined ? { default: o.default } : {}), ...(o.multiple ? { multiple: true } : {}) };
  }
  try {
    const { values, positionals } = parseArgs({ args: argv, options, allowPositionals: true, strict: true });
    return { values: values as Record<string, string | boolean | string[] | undefined>, positionals, help: values.help === true };
  } catch (err) {
    const help = `Run 'bos-fleet ${cmd.name} --help' for the options.`;
    if ((err as { code?: unknown }).code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') {
      const flag = /'(-{1,2}[^'=]+)/.exec((err as Error).message)?.[1] ?? '';
      const near = nearest(flag.replace(/^-+/, ''), Object.keys(options));
      throw new UsageError(`unknown option '${flag}'${near ? `; did you mean --${near}?` : ''} ${help}`);
    }
    throw new UsageError(`${(err as Error).message}. ${help}`);
  }
}

/** Parse an integer option with a message naming the option and the expected range. */
export function intOption(values: Record<string, unknown>, name: string, min: number, max: number): number | undefined {
  const raw = values[name];
  if (raw === undefined) return undefined;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new UsageError(`--${name}=${String(raw)}: expected an integer between ${min} and ${max}`);
  }
  return n;
}
