// Session tokens of one miner, as the Braiins OS API hands them out: Login returns a 16-character
// alphanumeric token valid for `timeout_s` seconds of inactivity; each authenticated request
// slides the expiry. The raw token travels in the `authorization` metadata (no "Bearer ").
import { randomBytes } from 'node:crypto';

import { ALPHANUMERIC } from './random.ts';

/** RPCs that need no token (full method paths). */
export const UNAUTHENTICATED_METHODS: ReadonlySet<string> = new Set([
  '/braiins.bos.ApiVersionService/GetApiVersion',
  '/braiins.bos.v1.AuthenticationService/Login',
]);

/** Most live sessions one miner keeps; the least recently used one is dropped beyond that. */
const MAX_SESSIONS = 64;

export function newToken(): string {
  const bytes = randomBytes(16);
  let out = '';
  for (const b of bytes) out += ALPHANUMERIC[b % ALPHANUMERIC.length];
  return out;
}

export class SessionStore {
  /** token → last use (ms since epoch); Map order = least recently used first. */
  private readonly sessions = new Map<string, number>();
  readonly timeoutS: number;

  constructor(timeoutS: number) {
    this.timeoutS = timeoutS;
  }

  /** Creates a session and returns its token. */
  create(nowMs: number): string {
    this.prune(nowMs);
    while (this.sessions.size >= MAX_SESSIONS) {
      const oldest = this.sessions.keys().next().value as string;
      this.sessions.delete(oldest);
    }
    const token = newToken();
    this.sessions.set(token, nowMs);
    return token;
  }

  /** True when the token is live; renews it (sliding expiry). Expired tokens are forgotten. */
  touch(token: string | undefined, nowMs: number): boolean {
    if (!token) return false;
    const last = this.sessions.get(token);
    if (last === undefined) return false;
    this.sessions.delete(token);
    if (nowMs - last > this.timeoutS * 1000) return false;
    this.sessions.set(token, nowMs);
    return true;
  }

  /** Drops every session (reboot, password change, auth fault). */
  clear(): void {
    this.sessions.clear();
  }

  get size(): number {
    return this.sessions.size;
  }

  private prune(nowMs: number): void {
    const limit = this.timeoutS * 1000;
    for (const [token, last] of this.sessions) {
      if (nowMs - last > limit) this.sessions.delete(token);
    }
  }
}
