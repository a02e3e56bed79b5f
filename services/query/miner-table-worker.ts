import { parentPort, workerData } from 'node:worker_threads';
import { FleetError } from '../../core/errors.ts';
import { createRedis, waitForRedis } from '../../store/influx-redis/redis-connection.ts';
import { redisKeys } from '../../store/influx-redis/redis-keys.ts';
import { RedisState } from '../../store/influx-redis/redis-state.ts';
import { readMinerColumns, type MinerTableStrings } from './miner-table.ts';
import { stringsOf, tableMessage } from './miner-table-transfer.ts';
import type { LoadReply, LoadRequest, LoaderWorkerData } from './miner-table-loader.ts';

// The loader thread of the API's miner tables (miner-table-loader.ts): it reads and parses every
// snapshot of a tenant, so the request thread never holds those ~25 MB of JSON per reload at
// 10,000 miners, and sends the table back as changes (miner-table-transfer.ts).

const port = parentPort!;
const { redisUrl, redisPrefix } = workerData as LoaderWorkerData;
const redis = createRedis(redisUrl, { name: 'bosfleet-api-tables' });
const store = new RedisState(redis, redisKeys(redisPrefix), { chunkSize: 200 });
/** per tenant: the last table sent, the base of the next message */
const sent = new Map<string, { version: number; strings: MinerTableStrings }>();

async function load(req: LoadRequest): Promise<LoadReply & { transfer: ArrayBuffer[] }> {
  if (redis.status !== 'ready' && !(await waitForRedis(redis, 2_000)))
    throw new FleetError('unavailable', 'Redis is not available');
  const known = sent.get(req.tenant);
  const base = known && known.version === req.baseVersion ? known.strings : undefined;
  const columns = await readMinerColumns(store, req.tenant, base);
  const { message, transfer } = tableMessage(columns, base, req.baseVersion);
  sent.set(req.tenant, { version: req.version, strings: stringsOf(columns) });
  return { id: req.id, ok: true, message, transfer };
}

port.on('message', (req: LoadRequest) => {
  load(req).then(
    ({ transfer, ...reply }) => port.postMessage(reply, transfer),
    (err: unknown) => {
      const reply: LoadReply = {
        id: req.id,
        ok: false,
        code: err instanceof FleetError ? err.code : 'internal',
        message: err instanceof Error ? err.message : String(err),
      };
      port.postMessage(reply);
    },
  );
});
