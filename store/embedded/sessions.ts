import type { SessionsPort } from '../ports/sessions.ts';
import type { EmbeddedDatabase } from './database.ts';

/**
 * Sessions and login codes in one SQLite table with an expiry time, so a restart logs nobody
 * out. Expired rows are never returned and are deleted as new ones are saved.
 */
const MIGRATIONS = [
  `CREATE TABLE console_secrets (
     kind TEXT NOT NULL,
     key_hash TEXT NOT NULL,
     value TEXT NOT NULL,
     expires_ms INTEGER NOT NULL,
     PRIMARY KEY (kind, key_hash)
   ) WITHOUT ROWID;
   CREATE INDEX console_secrets_expiry ON console_secrets (expires_ms);`,
];

type Kind = 'session' | 'login-code';

/** How often expired rows are swept at most (they run on save). */
const SWEEP_EVERY_MS = 60_000;

export class EmbeddedSessions implements SessionsPort {
  private readonly database: EmbeddedDatabase;
  private readonly now: () => number;
  private lastSweepMs = Number.NEGATIVE_INFINITY;

  constructor(database: EmbeddedDatabase, opts: { now?: () => number } = {}) {
    this.database = database;
    this.now = opts.now ?? Date.now;
    database.migrate('sessions', MIGRATIONS);
  }

  private save(kind: Kind, keyHash: string, value: string, ttlMs: number): void {
    const now = this.now();
    this.database.db
      .prepare(
        'INSERT INTO console_secrets (kind, key_hash, value, expires_ms) VALUES (?, ?, ?, ?) ON CONFLICT (kind, key_hash) DO UPDATE SET value = excluded.value, expires_ms = excluded.expires_ms',
      )
      .run(kind, keyHash, value, now + Math.max(1, Math.ceil(ttlMs)));
    if (now - this.lastSweepMs >= SWEEP_EVERY_MS) {
      this.lastSweepMs = now;
      this.database.db.prepare('DELETE FROM console_secrets WHERE expires_ms <= ?').run(now);
    }
  }

  private load(kind: Kind, keyHash: string): string | null {
    const row = this.database.db
      .prepare('SELECT value FROM console_secrets WHERE kind = ? AND key_hash = ? AND expires_ms > ?')
      .get(kind, keyHash, this.now()) as { value: string } | undefined;
    return row?.value ?? null;
  }


  async saveSession(idHash: string, session: string, ttlMs: number): Promise<void> {
    this.save('session', idHash, session, ttlMs);
  }

  async loadSession(idHash: string): Promise<string | null> {
    return this.load('session', idHash);
  }

  async deleteSession(idHash: string): Promise<void> {
    this.database.db.prepare('DELETE FROM console_secrets WHERE kind = ? AND key_hash = ?').run('session', idHash);
  }

  async saveLoginCode(codeHash: string, token: string, ttlMs: number): Promise<void> {
    this.save('login-code', codeHash, token, ttlMs);
  }

  async takeLoginCode(codeHash: string): Promise<string | null> {
    // One statement: the code is gone whether or not it was still valid.
    const row = this.database.db
      .prepare('DELETE FROM console_secrets WHERE kind = ? AND key_hash = ? RETURNING value, expires_ms')
      .get('login-code', codeHash) as { value: string; expires_ms: number } | undefined;
    return row && row.expires_ms > this.now() ? row.value : null;
  }
}
