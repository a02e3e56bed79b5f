import type { Redis } from 'ioredis';
import { FleetError } from '../../core/errors.ts';
import type { LeaseRecord, LeaseRenewal, LeaseRound, LeasesPort } from '../ports/leases.ts';
import { checkLeaseMember, checkLeaseTtl, decodeView, encodeView } from '../lease-member.ts';
import type { RedisKeys } from './redis-keys.ts';

// KEYS[1]: SET of member ids; ARGV[1]: prefix of member record keys; ARGV[2]: member ('' = read
// only); ARGV[3]: its view; ARGV[4]: ttl ms. Record keys are derived in the script (one Redis,
// not a cluster); ARGV[5]: the renewing instance. Returns { now, continued (1|0), previous
// instance, id, view, prev, since, id, ... } of every live member.
const RENEW_LUA = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local nowText = string.format('%d', now)
local continued = '0'
local previous = ''
if ARGV[2] ~= '' then
  local key = ARGV[1] .. ARGV[2]
  local cur = redis.call('HGET', key, 'v')
  if cur ~= false then previous = redis.call('HGET', key, 'i') or '' end
  redis.call('HSET', key, 'i', ARGV[5])
  if cur == false then
    redis.call('HSET', key, 'v', ARGV[3], 'p', '', 's', nowText)
  else
    continued = '1'
  end
  if cur ~= false and cur ~= ARGV[3] then
    redis.call('HSET', key, 'v', ARGV[3], 'p', cur, 's', nowText)
  end
  redis.call('PEXPIRE', key, ARGV[4])
  redis.call('SADD', KEYS[1], ARGV[2])
end
local out = { nowText, continued, previous }
for _, id in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  local r = redis.call('HMGET', ARGV[1] .. id, 'v', 'p', 's')
  if r[1] == false then
    redis.call('SREM', KEYS[1], id)
  else
    table.insert(out, id)
    table.insert(out, r[1])
    table.insert(out, r[2] or '')
    table.insert(out, r[3] or nowText)
  end
end
return out
`;

type RenewCommand = (membersKey: string, recordPrefix: string, member: string, view: string, ttlMs: number, instance: string) => Promise<string[]>;

/** Leases in Redis: a HASH per member (view, prev, since) expiring ttl after its last renewal. */
export class RedisLeases implements LeasesPort {
  private readonly redis: Redis;
  private readonly keys: RedisKeys;

  constructor(redis: Redis, keys: RedisKeys) {
    this.redis = redis;
    this.keys = keys;
    if (!('bosfleetLeaseRenew' in redis)) redis.defineCommand('bosfleetLeaseRenew', { numberOfKeys: 1, lua: RENEW_LUA });
  }

  async renew(member: string, view: readonly string[], ttlMs: number, instance = ''): Promise<LeaseRenewal> {
    checkLeaseMember(member);
    checkLeaseTtl(ttlMs);
    return this.call(member, encodeView(view), ttlMs, instance);
  }

  async round(): Promise<LeaseRound> {
    const { nowMs, members } = await this.call('', '', 0, '');
    return { nowMs, members };
  }

  async release(member: string): Promise<void> {
    checkLeaseMember(member);
    try {
      await this.redis.multi().del(this.record(member)).srem(this.keys.custom('leases', 'members'), member).exec();
    } catch (err) {
      throw new FleetError('unavailable', 'Redis is not available', { cause: err });
    }
  }

  private record(member: string): string {
    return `${this.keys.custom('leases', 'member')}:${member}`;
  }

  private async call(member: string, view: string, ttlMs: number, instance: string): Promise<LeaseRenewal> {
    const cmd = (this.redis as unknown as { bosfleetLeaseRenew: RenewCommand }).bosfleetLeaseRenew;
    let reply: string[];
    try {
      reply = await cmd.call(this.redis, this.keys.custom('leases', 'members'), `${this.keys.custom('leases', 'member')}:`, member, view, ttlMs, instance);
    } catch (err) {
      throw new FleetError('unavailable', 'Redis is not available', { cause: err });
    }
    const members: LeaseRecord[] = [];
    for (let i = 3; i + 3 < reply.length; i += 4) {
      members.push({ member: reply[i]!, view: decodeView(reply[i + 1]!), prev: decodeView(reply[i + 2]!), sinceMs: Number(reply[i + 3]) });
    }
    members.sort((a, b) => (a.member < b.member ? -1 : a.member > b.member ? 1 : 0));
    const continued = reply[1] === '1';
    return { nowMs: Number(reply[0]), continued, previousInstance: continued ? reply[2]! : null, members };
  }
}
