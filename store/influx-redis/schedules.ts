import type { Redis } from 'ioredis';
import { FleetError } from '../../core/errors.ts';
import type { Logger } from '../../runtime/logger.ts';
import {
  WINDOW_MEMO_KEEP_MS,
  type ScheduleChange,
  type ScheduleRecord,
  type SchedulesPort,
  type ScheduleWatch,
  type ScheduleWindow,
  type WindowChange,
  type WindowPhase,
} from '../ports/schedules.ts';
import type { RedisKeys } from './redis-keys.ts';

/**
 * Schedules in Redis, shared by every API replica:
 *  - custom('schedules'): HASH id -> JSON schedule (all tenants);
 *  - custom('schedules', id, 'windows'): HASH start ms -> JSON window;
 *  - custom('schedules', id, 'window', start ms, phase): the claim, `SET NX PX`: the first
 *    replica to set it runs that phase;
 *  - custom('schedules', id, 'memo', start ms): HASH miner id -> JSON change (the memo ref);
 *  - custom('schedules', 'changed'): PUB/SUB channel of changes.
 */
export function redisSchedules(redis: Redis, keys: RedisKeys, log?: Logger): SchedulesPort {
  const all = keys.custom('schedules');
  const channel = keys.custom('schedules', 'changed');
  const windowsKey = (id: string): string => keys.custom('schedules', id, 'windows');
  const claimKey = (id: string, startMs: number, phase: WindowPhase): string =>
    keys.custom('schedules', id, 'window', String(startMs), phase);

  // A Redis that is down is `unavailable` (503) on a request's path, never a raw client error.
  const call = async <T>(fn: () => Promise<T>): Promise<T> => {
    try {
      return await fn();
    } catch (err) {
      if (err instanceof FleetError) throw err;
      throw new FleetError('unavailable', 'Redis is not available', { cause: err });
    }
  };
  const parse = (v: string): ScheduleRecord => JSON.parse(v) as ScheduleRecord;

  return {
    save: s => call(async () => void (await redis.hset(all, s.id, JSON.stringify(s)))),

    get: (tenant, id) =>
      call(async () => {
        const raw = await redis.hget(all, id);
        const s = raw ? parse(raw) : null;
        return s && s.tenant === tenant ? s : null;
      }),

    list: tenant =>
      call(async () =>
        Object.values(await redis.hgetall(all))
          .map(parse)
          .filter(s => s.tenant === tenant)
          .sort((a, b) => a.created_ms - b.created_ms),
      ),

    listAll: () => call(async () => Object.values(await redis.hgetall(all)).map(parse)),

    delete: (tenant, id) =>
      call(async () => {
        const raw = await redis.hget(all, id);
        if (!raw || parse(raw).tenant !== tenant) return false;
        await redis.multi().hdel(all, id).del(windowsKey(id)).exec();
        return true;
      }),

    async announce(change) {
      await redis.publish(channel, JSON.stringify(change)).catch((err: unknown) => {
        log?.warn({ err: (err as Error).message }, 'schedules: change not announced; other replicas pick it up at their next reload');
      });
    },

    async watch(onChange): Promise<ScheduleWatch> {
      const sub = redis.duplicate({ lazyConnect: false, enableOfflineQueue: true, maxRetriesPerRequest: null });
      // Connection errors are retried by ioredis; the evaluator's periodic reload covers the gap.
      sub.on('error', () => undefined);
      let closed = false;
      sub.on('message', (_ch: string, msg: string) => {
        // Messages already on the socket still arrive after close(); the watcher has gone.
        if (closed) return;
        let change: ScheduleChange;
        try {
          change = JSON.parse(msg) as ScheduleChange;
        } catch {
          log?.warn({ channel }, 'schedules: ignored a change announcement that is not JSON');
          return;
        }
        onChange(change);
      });
      try {
        await sub.subscribe(channel);
      } catch (err) {
        sub.disconnect();
        throw new FleetError('unavailable', 'Redis is not available', { cause: err });
      }
      return {
        async close() {
          closed = true;
          sub.disconnect();
        },
      };
    },

    claimWindow: async (id, startMs, phase, holder, ttlMs) =>
      (await call(() => redis.set(claimKey(id, startMs, phase), holder, 'PX', ttlMs, 'NX'))) === 'OK',

    isWindowClaimed: async (id, startMs, phase) => (await call(() => redis.exists(claimKey(id, startMs, phase)))) > 0,

    saveWindow: (id, w, keep) =>
      call(async () => {
        const key = windowsKey(id);
        await redis.hset(key, String(w.start_ms), JSON.stringify(w));
        const fields = await redis.hkeys(key);
        if (fields.length > keep) {
          const old = fields
            .map(Number)
            .sort((a, b) => a - b)
            .slice(0, fields.length - keep);
          await redis.hdel(key, ...old.map(String));
        }
      }),

    getWindow: (id, startMs) =>
      call(async () => {
        const raw = await redis.hget(windowsKey(id), String(startMs));
        return raw ? (JSON.parse(raw) as ScheduleWindow) : null;
      }),

    listWindows: id =>
      call(async () =>
        Object.values(await redis.hgetall(windowsKey(id)))
          .map(v => JSON.parse(v) as ScheduleWindow)
          .sort((a, b) => b.start_ms - a.start_ms),
      ),

    // The ref is the memo's Redis key itself: jobs enqueued before this port existed carry it.
    windowMemoRef: (id, startMs) => keys.custom('schedules', id, 'memo', String(startMs)),

    rememberChange: (ref, minerId, change) =>
      call(async () => {
        await redis.multi().hset(ref, minerId, JSON.stringify(change)).pexpire(ref, WINDOW_MEMO_KEEP_MS).exec();
      }),

    changeOf: (ref, minerId) =>
      call(async () => {
        const raw = await redis.hget(ref, minerId);
        return raw ? (JSON.parse(raw) as WindowChange) : null;
      }),

    changedMiners: ref => call(() => redis.hkeys(ref)),
  };
}
