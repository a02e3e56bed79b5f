import type { Redis } from 'ioredis';
import { FleetError } from '../../core/errors.ts';
import type { EnergyExecutionRecord, EnergyPolicyRecord, EnergyPort, EnergyStepRun, StoredPrices } from '../ports/energy.ts';
import type { RedisKeys } from './redis-keys.ts';

/** Extend a step claim only while the caller still holds it. */
const RENEW_CLAIM = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end return 0`;

/**
 * Energy policies and curtailment executions in Redis, shared by every API replica:
 *  - custom('energy', 'policies'): HASH `tenant/id` -> JSON policy;
 *  - custom('energy', 'prices'): HASH policy key -> JSON stored prices;
 *  - custom('energy', 'executions'): HASH id -> JSON execution, created with HSETNX (the first
 *    replica's frozen plan wins); custom('energy', 'open'): SET of open execution ids;
 *  - custom('energy', 'exec', id, 'runs'): HASH step key -> JSON step run;
 *  - custom('energy', 'exec', id, 'claim', step key): the claim, `SET NX PX`.
 */

export function redisEnergy(redis: Redis, keys: RedisKeys): EnergyPort {
  const policies = keys.custom('energy', 'policies');
  const pricesKey = keys.custom('energy', 'prices');
  const executions = keys.custom('energy', 'executions');
  const openSet = keys.custom('energy', 'open');
  const runsKey = (id: string): string => keys.custom('energy', 'exec', id, 'runs');
  const claimKey = (id: string, step: string): string => keys.custom('energy', 'exec', id, 'claim', step);
  const call = async <T>(fn: () => Promise<T>): Promise<T> => {
    try {
      return await fn();
    } catch (err) {
      if (err instanceof FleetError) throw err;
      throw new FleetError('unavailable', 'Redis is not available', { cause: err });
    }
  };
  const pkey = (tenant: string, id: string): string => `${tenant}/${id}`;
  const allExecutions = async (): Promise<EnergyExecutionRecord[]> =>
    Object.values(await redis.hgetall(executions)).map(v => JSON.parse(v) as EnergyExecutionRecord);

  return {
    savePolicy: p => call(async () => void (await redis.hset(policies, pkey(p.tenant, p.id), JSON.stringify(p)))),
    getPolicy: (tenant, id) =>
      call(async () => {
        const raw = await redis.hget(policies, pkey(tenant, id));
        return raw ? (JSON.parse(raw) as EnergyPolicyRecord) : null;
      }),
    listPolicies: tenant =>
      call(async () =>
        Object.values(await redis.hgetall(policies))
          .map(v => JSON.parse(v) as EnergyPolicyRecord)
          .filter(p => p.tenant === tenant)
          .sort((a, b) => a.created_ms - b.created_ms || (a.id < b.id ? -1 : 1)),
      ),
    listAllPolicies: () =>
      call(async () =>
        Object.values(await redis.hgetall(policies))
          .map(v => JSON.parse(v) as EnergyPolicyRecord)
          .sort((a, b) => a.created_ms - b.created_ms || (a.id < b.id ? -1 : 1)),
      ),
    deletePolicy: (tenant, id) => call(async () => (await redis.hdel(policies, pkey(tenant, id))) > 0),
    savePrices: (key, prices) => call(async () => void (await redis.hset(pricesKey, key, JSON.stringify(prices)))),
    prices: key =>
      call(async () => {
        const raw = await redis.hget(pricesKey, key);
        return raw ? (JSON.parse(raw) as StoredPrices) : null;
      }),
    createExecution: (e, keep) =>
      call(async () => {
        const created = (await redis.hsetnx(executions, e.id, JSON.stringify(e))) === 1;
        if (!created) return false;
        if (e.finished_ms === null) await redis.sadd(openSet, e.id);
        const mine = (await allExecutions()).filter(x => x.tenant === e.tenant && x.finished_ms !== null);
        const old = mine.sort((a, b) => b.created_ms - a.created_ms).slice(Math.max(0, keep - 1));
        if (old.length > 0) {
          const m = redis.multi().hdel(executions, ...old.map(x => x.id));
          for (const x of old) m.del(runsKey(x.id));
          await m.exec();
        }
        return true;
      }),
    updateExecution: e =>
      call(async () => {
        const m = redis.multi().hset(executions, e.id, JSON.stringify(e));
        if (e.finished_ms === null) m.sadd(openSet, e.id);
        else m.srem(openSet, e.id);
        await m.exec();
      }),
    getExecution: (tenant, id) =>
      call(async () => {
        const raw = await redis.hget(executions, id);
        const e = raw ? (JSON.parse(raw) as EnergyExecutionRecord) : null;
        return e && e.tenant === tenant ? e : null;
      }),
    listExecutions: (tenant, limit) =>
      call(async () =>
        (await allExecutions())
          .filter(e => e.tenant === tenant)
          .sort((a, b) => b.created_ms - a.created_ms || (a.id < b.id ? -1 : 1))
          .slice(0, limit),
      ),
    openExecutions: () =>
      call(async () => {
        const ids = await redis.smembers(openSet);
        if (ids.length === 0) return [];
        const raws = await redis.hmget(executions, ...ids);
        return raws
          .filter((r): r is string => r !== null)
          .map(r => JSON.parse(r) as EnergyExecutionRecord)
          .filter(e => e.finished_ms === null)
          .sort((a, b) => a.created_ms - b.created_ms);
      }),
    claimStep: async (id, step, holder, ttlMs) => (await call(() => redis.set(claimKey(id, step), holder, 'PX', ttlMs, 'NX'))) === 'OK',
    renewClaim: async (id, step, holder, ttlMs) => Number(await call(() => redis.eval(RENEW_CLAIM, 1, claimKey(id, step), holder, String(ttlMs)))) === 1,
    saveStepRun: (id, run) => call(async () => void (await redis.hset(runsKey(id), run.key, JSON.stringify(run)))),
    stepRuns: id =>
      call(async () =>
        Object.values(await redis.hgetall(runsKey(id)))
          .map(v => JSON.parse(v) as EnergyStepRun)
          .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0)),
      ),
  };
}
