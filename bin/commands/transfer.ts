import { createReadStream, createWriteStream } from 'node:fs';
import { once } from 'node:events';
import { apiConfigSchema } from '../../api/config.ts';
import { parseConfig, readRawConfig, type RawConfig } from '../../runtime/config-loader.ts';
import { formatLine, readLines, type LinePoint } from '../../store/transfer/line-protocol.ts';
import { seriesTransferOf } from '../../store/transfer/series-transfer.ts';
import { openStore, storeLine } from '../../store/open-store.ts';
import type { Store } from '../../store/store.ts';
import { intOption, UsageError, type CliCommand } from '../command.ts';
import { STORE_OPTIONS, storeOverrides } from '../store-options.ts';

const UNIT_MS: Record<string, number> = { m: 60_000, h: 3_600_000, d: 86_400_000 };

/** `30d`, `12h`, `90m` as milliseconds, or a usage error saying so. */
export function parseSince(text: string): number {
  const m = /^(\d{1,6})([mhd])$/.exec(text.trim());
  if (!m || Number(m[1]) === 0) throw new UsageError(`--since=${text}: expected a duration such as 30d, 12h or 90m`);
  return Number(m[1]) * UNIT_MS[m[2]!]!;
}

function openConfiguredStore(flags: RawConfig): Store {
  const raw = { ...readRawConfig(process.env), ...flags };
  return openStore(parseConfig(apiConfigSchema.pick({ BOSFLEET_STORE: true, BOSFLEET_DATA_DIR: true, REDIS_URL: true, REDIS_PREFIX: true, INFLUX_URL: true, INFLUX_DB: true, INFLUX_FLAVOUR: true, INFLUX_AUTH: true, INFLUX_USERNAME: true, INFLUX_PASSWORD: true, INFLUX_TOKEN: true, INFLUX_TIMEOUT_MS: true }), raw), { name: 'bosfleet-transfer' });
}

export const exportCommand: CliCommand = {
  name: 'export',
  summary: 'Write the stored series and events as InfluxDB line protocol (to move history to InfluxDB).',
  description: [
    'Reads the store (the embedded one by default: stop bos-fleet start first, the data folder serves one',
    "process) and writes one line per point, nanosecond timestamps. 'bos-fleet import' or InfluxDB's own",
    '/write (influx write, curl --data-binary @file.lp) read it back.',
  ].join('\n'),
  options: {
    'from-store': { type: 'string', description: 'The store to read: embedded or influx-redis (same as --store; default as for the other commands).' },
    store: STORE_OPTIONS.store,
    'data-dir': STORE_OPTIONS['data-dir'],
    since: { type: 'string', description: 'How far back: 30d, 12h, 90m.', default: '30d' },
    out: { type: 'string', description: 'Output file (default: standard output).' },
  },
  async run(values) {
    const sinceMs = parseSince(String(values.since));
    const store = openConfiguredStore(storeOverrides({ store: values['from-store'] ?? values.store, 'data-dir': values['data-dir'] }));
    process.stderr.write(`bos-fleet: export from ${storeLine(store)}\n`);
    const out = typeof values.out === 'string' ? createWriteStream(values.out, { mode: 0o600 }) : process.stdout;
    let n = 0;
    try {
      const untilMs = Date.now() + 60_000;
      for await (const p of seriesTransferOf(store).exportRange({ sinceMs: untilMs - 60_000 - sinceMs, untilMs })) {
        if (!out.write(formatLine(p) + '\n')) await once(out, 'drain');
        n++;
      }
    } finally {
      await store.close();
      if (out !== process.stdout) await new Promise<void>((resolve, reject) => (out as NodeJS.WritableStream).end((err?: Error | null) => (err ? reject(err) : resolve())));
    }
    process.stderr.write(`bos-fleet: exported ${n} points${typeof values.out === 'string' ? ` to ${values.out}` : ''}\n`);
    return 0;
  },
};

export const importCommand: CliCommand = {
  name: 'import',
  summary: 'Write InfluxDB line protocol (a file from bos-fleet export) into the configured store.',
  description: 'Usage: bos-fleet import <file.lp> [--store influx-redis]. On influx-redis the lines go to InfluxDB /write.',
  options: {
    store: STORE_OPTIONS.store,
    'data-dir': STORE_OPTIONS['data-dir'],
    batch: { type: 'string', description: 'Points per write.', default: '5000' },
  },
  async run(values, positionals) {
    const file = positionals[0];
    if (!file || positionals.length > 1) throw new UsageError('expected one file: bos-fleet import <file.lp>');
    const batchSize = intOption(values, 'batch', 1, 1_000_000)!;
    // Read the first line before touching the store: a file that is not line protocol fails alone.
    const input = createReadStream(file, { encoding: 'utf8' });
    const store = openConfiguredStore(storeOverrides(values));
    process.stderr.write(`bos-fleet: import into ${storeLine(store)}\n`);
    let n = 0;
    try {
      const sink = seriesTransferOf(store);
      let batch: LinePoint[] = [];
      for await (const p of readLines(input, file)) {
        batch.push(p);
        if (batch.length >= batchSize) {
          await sink.write(batch);
          n += batch.length;
          batch = [];
        }
      }
      await sink.write(batch);
      n += batch.length;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new UsageError(`${file}: no such file`);
      throw err;
    } finally {
      input.destroy();
      await store.close();
    }
    process.stderr.write(`bos-fleet: imported ${n} points from ${file}\n`);
    return 0;
  },
};
