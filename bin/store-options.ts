import type { RawConfig } from '../runtime/config-loader.ts';
import { storeLine } from '../store/open-store.ts';
import type { Store } from '../store/store.ts';
import { STORE_BACKENDS } from '../store/store.ts';
import { UsageError, type CliOption } from './command.ts';

/** --store and --data-dir, the same on every command that opens the store. */
export const STORE_OPTIONS: Record<'store' | 'data-dir', CliOption> = {
  store: {
    type: 'string',
    description: `Storage backend: ${STORE_BACKENDS.join(' or ')}. Env: BOSFLEET_STORE (default: embedded, or influx-redis when INFLUX_URL or REDIS_URL is set).`,
  },
  'data-dir': {
    type: 'string',
    description: 'Data folder of the embedded store. Env: BOSFLEET_DATA_DIR (default: $XDG_DATA_HOME/bos-fleet or ~/.local/share/bos-fleet).',
  },
};

/** The flags as configuration keys (they win over the environment and the file). */
export function storeOverrides(values: Record<string, unknown>): RawConfig {
  const out: RawConfig = {};
  if (typeof values.store === 'string') {
    if (!(STORE_BACKENDS as readonly string[]).includes(values.store)) throw new UsageError(`--store=${values.store}: expected ${STORE_BACKENDS.join(' or ')}`);
    out.BOSFLEET_STORE = values.store;
  }
  if (typeof values['data-dir'] === 'string') {
    if (values['data-dir'] === '') throw new UsageError('--data-dir: expected a folder');
    out.BOSFLEET_DATA_DIR = values['data-dir'];
  }
  return out;
}

/** One line on stderr (stdout may carry a protocol): which backend, where. */
export function announceStore(store: Pick<Store, 'backend' | 'location'>): void {
  process.stderr.write(`bos-fleet: ${storeLine(store)}\n`);
}
