import { describe, expect, it } from 'vitest';
import { loadApiConfig } from '../../api/config.ts';
import { ConfigError } from '../../runtime/config-loader.ts';
import { loadCollectorConfig } from '../../collector/config.ts';
import { parseCommandArgs, UsageError, type CliCommand } from '../../bin/command.ts';
import { apiCommand } from '../../bin/commands/api.ts';

// Issue 15, one contract: every bad configuration key is reported at once (API_PORT=99999 hid
// COLLECTOR_POLL_INTERVAL_MS=fast), and an unknown command-line flag names the nearest one.

function problems(load: () => unknown): string[] {
  try {
    load();
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as ConfigError).problems;
  }
  throw new Error('expected a ConfigError');
}

describe('configuration errors', () => {
  it('the API reports API_PORT and COLLECTOR_POLL_INTERVAL_MS together', () => {
    const p = problems(() => loadApiConfig({ API_PORT: '99999', COLLECTOR_POLL_INTERVAL_MS: 'fast' }));
    expect(p.some(l => l.startsWith('API_PORT=')), p.join('\n')).toBe(true);
    expect(p.some(l => l.startsWith('COLLECTOR_POLL_INTERVAL_MS=')), p.join('\n')).toBe(true);
  });

  it('the collector reports every bad key of its own at once', () => {
    const p = problems(() =>
      loadCollectorConfig({ COLLECTOR_POLL_INTERVAL_MS: 'fast', COLLECTOR_HTTP_PORT: '99999', INFLUX_URL: 'nope' }),
    );
    expect(p.length, p.join('\n')).toBeGreaterThanOrEqual(3);
  });
});

describe('unknown command-line flags', () => {
  const usage = (cmd: CliCommand, argv: string[]): string => {
    try {
      parseCommandArgs(cmd, argv);
    } catch (err) {
      expect(err).toBeInstanceOf(UsageError);
      return (err as Error).message;
    }
    throw new Error('expected a UsageError');
  };

  it('names the nearest flag of the command', () => {
    expect(usage(apiCommand, ['--prot', '8080'])).toMatch(/unknown option '--prot'; did you mean --port\?/);
    expect(usage(apiCommand, ['--hots=0.0.0.0'])).toMatch(/did you mean --host\?/);
  });

  it('without a near one, points at --help only', () => {
    const m = usage(apiCommand, ['--frobnicate']);
    expect(m).toMatch(/unknown option '--frobnicate'/);
    expect(m).not.toMatch(/did you mean/);
    expect(m).toMatch(/bos-fleet api --help/);
  });
});
