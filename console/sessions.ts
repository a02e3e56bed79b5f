import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { SessionsPort } from '../store/ports/sessions.ts';
import type { Caller } from '../services/context.ts';

/**
 * Console sessions and one-time login codes, kept in the store's sessions port so every API
 * replica sees them and a restart does not log people out. Only hashes of the secrets are used
 * as keys: a dump of the store does not hand out live sessions or codes.
 */
export interface ConsoleSession {
  caller: Caller;
  /** per-session CSRF token, echoed by every form and script request */
  csrf: string;
  created_ms: number;
  expires_ms: number;
}

/** Longest a console session lives, whatever the token's own lifetime. */
export const SESSION_MAX_MS = 8 * 3_600_000;
/** How long a one-time login code printed by the demo / `bos-fleet token` stays usable. */
export const LOGIN_CODE_TTL_MS = 15 * 60_000;

const hash = (s: string): string => createHash('sha256').update(s).digest('base64url');
export const newSecret = (): string => randomBytes(32).toString('base64url');

export function sameSecret(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

const SECRET_FORM = /^[A-Za-z0-9_-]{20,100}$/;

export class ConsoleSessions {
  private readonly store: SessionsPort;
  constructor(store: SessionsPort) {
    this.store = store;
  }

  /** A new session for `caller`, ending at `expiresMs` at the latest (the token's exp). */
  async create(caller: Caller, expiresMs: number): Promise<{ id: string; session: ConsoleSession }> {
    const now = Date.now();
    const session: ConsoleSession = {
      caller,
      csrf: newSecret(),
      created_ms: now,
      expires_ms: Math.min(expiresMs, now + SESSION_MAX_MS),
    };
    const id = newSecret();
    await this.store.saveSession(hash(id), JSON.stringify(session), Math.max(1, session.expires_ms - now));
    return { id, session };
  }

  async get(id: string): Promise<ConsoleSession | null> {
    if (!SECRET_FORM.test(id)) return null;
    const v = await this.store.loadSession(hash(id));
    if (!v) return null;
    const s = JSON.parse(v) as ConsoleSession;
    return s.expires_ms > Date.now() ? s : null;
  }

  async destroy(id: string): Promise<void> {
    await this.store.deleteSession(hash(id));
  }

  /** A one-time code standing for `token`: the login link carries the code, never the token. */
  async mintLoginCode(token: string, ttlMs = LOGIN_CODE_TTL_MS): Promise<string> {
    const code = newSecret();
    await this.store.saveLoginCode(hash(code), token, ttlMs);
    return code;
  }

  /** The token behind a code, once: the code is deleted as it is read. */
  async redeemLoginCode(code: string): Promise<string | null> {
    if (!SECRET_FORM.test(code)) return null;
    return await this.store.takeLoginCode(hash(code));
  }
}
