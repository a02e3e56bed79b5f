/**
 * Console sessions and one-time login codes, each stored under the hash of its secret (the
 * console hashes; a dump of the store hands out no live session or code). Both expire on their
 * own and survive a restart of the process. influx-redis: Redis keys with a TTL; embedded: a
 * SQLite table with an expiry time.
 */
export interface SessionsPort {
  /** stores a session (opaque JSON of the console) for ttlMs */
  saveSession(idHash: string, session: string, ttlMs: number): Promise<void>;
  /** the session, or null when unknown or expired */
  loadSession(idHash: string): Promise<string | null>;
  deleteSession(idHash: string): Promise<void>;
  /** stores the token a login code stands for, for ttlMs */
  saveLoginCode(codeHash: string, token: string, ttlMs: number): Promise<void>;
  /** the token behind a code, once: the code is gone after this call */
  takeLoginCode(codeHash: string): Promise<string | null>;
}
