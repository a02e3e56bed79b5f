import type { Redis } from 'ioredis';
import type { SessionsPort } from '../ports/sessions.ts';
import type { RedisKeys } from './redis-keys.ts';

/** Sessions and login codes as Redis keys with a TTL, seen by every API replica. */
export class RedisSessions implements SessionsPort {
  private readonly redis: Redis;
  private readonly keys: RedisKeys;

  constructor(redis: Redis, keys: RedisKeys) {
    this.redis = redis;
    this.keys = keys;
  }

  private sessionKey(idHash: string): string {
    return this.keys.custom('console', 'session', idHash);
  }

  private codeKey(codeHash: string): string {
    return this.keys.custom('console', 'login-code', codeHash);
  }

  async saveSession(idHash: string, session: string, ttlMs: number): Promise<void> {
    await this.redis.set(this.sessionKey(idHash), session, 'PX', Math.max(1, Math.ceil(ttlMs)));
  }

  async loadSession(idHash: string): Promise<string | null> {
    return await this.redis.get(this.sessionKey(idHash));
  }

  async deleteSession(idHash: string): Promise<void> {
    await this.redis.del(this.sessionKey(idHash));
  }

  async saveLoginCode(codeHash: string, token: string, ttlMs: number): Promise<void> {
    await this.redis.set(this.codeKey(codeHash), token, 'PX', Math.max(1, Math.ceil(ttlMs)));
  }

  async takeLoginCode(codeHash: string): Promise<string | null> {
    return await this.redis.getdel(this.codeKey(codeHash));
  }
}
