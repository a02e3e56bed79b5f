import fs from 'node:fs';
import path from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { FleetError } from '../../core/errors.ts';
import type { Logger } from '../../runtime/logger.ts';

/**
 * The embedded store's one SQLite file (`<dataDir>/bos-fleet.db`, WAL) and the lock that keeps a
 * second process off it. Every embedded adapter shares this handle: one connection, one writer,
 * so a collection flush is one transaction and readers in this process see committed data.
 *
 * Why a pid lock file and not SQLite's exclusive locking mode: exclusive mode would also shut out
 * our own read connections (long reads run on a worker thread with their own connection), and a
 * lock file lets the refusal name the process that holds the folder.
 */
export const DB_FILE = 'bos-fleet.db';
export const LOCK_FILE = 'bos-fleet.lock';

const openInThisProcess = new Set<string>();

export interface OpenDatabaseOptions {
  dataDir: string;
  log?: Logger | undefined;
  /** WAL checkpoint period; 0 disables the timer (tests call checkpoint()) */
  checkpointIntervalMs?: number;
}

export class EmbeddedDatabase {
  readonly db: DatabaseSync;
  readonly dataDir: string;
  readonly file: string;
  private readonly lockFile: string;
  private readonly log: Logger | undefined;
  private checkpointTimer: NodeJS.Timeout | undefined;
  private closed = false;

  private constructor(dataDir: string, db: DatabaseSync, lockFile: string, log: Logger | undefined) {
    this.dataDir = dataDir;
    this.db = db;
    this.file = path.join(dataDir, DB_FILE);
    this.lockFile = lockFile;
    this.log = log;
  }

  static open(opts: OpenDatabaseOptions): EmbeddedDatabase {
    const dataDir = path.resolve(opts.dataDir);
    try {
      fs.mkdirSync(dataDir, { recursive: true, mode: 0o700 });
    } catch (err) {
      throw new FleetError('unavailable', `cannot create the data folder ${dataDir}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}; choose another with --data-dir`, { cause: err });
    }
    const lockFile = takeLock(dataDir);
    let db: DatabaseSync;
    try {
      db = new DatabaseSync(path.join(dataDir, DB_FILE));
      db.exec('PRAGMA journal_mode = WAL');
      // NORMAL in WAL: a crash loses at most the last transactions, never corrupts the file.
      db.exec('PRAGMA synchronous = NORMAL');
      db.exec('PRAGMA busy_timeout = 5000');
      db.exec('PRAGMA foreign_keys = ON');
      db.exec('PRAGMA wal_autocheckpoint = 0');
      db.exec('CREATE TABLE IF NOT EXISTS schema_versions (component TEXT PRIMARY KEY, version INTEGER NOT NULL)');
    } catch (err) {
      releaseLock(dataDir, lockFile);
      throw new FleetError('unavailable', `cannot open the embedded store in ${dataDir}: ${(err as Error).message}`, { cause: err });
    }
    const handle = new EmbeddedDatabase(dataDir, db, lockFile, opts.log);
    const every = opts.checkpointIntervalMs ?? 60_000;
    if (every > 0) {
      handle.checkpointTimer = setInterval(() => handle.checkpoint(), every);
      handle.checkpointTimer.unref();
    }
    return handle;
  }

  /** Applies the component's schema steps it has not seen yet, each in its own transaction. */
  migrate(component: string, steps: readonly string[]): void {
    const row = this.db.prepare('SELECT version FROM schema_versions WHERE component = ?').get(component) as
      | { version: number }
      | undefined;
    const from = row?.version ?? 0;
    for (let v = from; v < steps.length; v++) {
      this.transaction(() => {
        this.db.exec(steps[v]!);
        this.db
          .prepare('INSERT INTO schema_versions (component, version) VALUES (?, ?) ON CONFLICT(component) DO UPDATE SET version = excluded.version')
          .run(component, v + 1);
      });
    }
  }

  /** Runs fn in one transaction (nested calls join the outer one). */
  transaction<T>(fn: () => T): T {
    if (this.db.isTransaction) return fn();
    this.db.exec('BEGIN IMMEDIATE');
    try {
      const out = fn();
      this.db.exec('COMMIT');
      return out;
    } catch (err) {
      this.db.exec('ROLLBACK');
      throw err;
    }
  }

  /** Folds the WAL back into the database file so it does not grow without bound. */
  checkpoint(): void {
    if (this.closed) return;
    try {
      this.db.exec('PRAGMA wal_checkpoint(TRUNCATE)');
    } catch (err) {
      this.log?.warn({ err: (err as Error).message }, 'embedded store: WAL checkpoint failed; retried next period');
    }
  }

  get isOpen(): boolean {
    return !this.closed;
  }

  close(): void {
    if (this.closed) return;
    if (this.checkpointTimer) clearInterval(this.checkpointTimer);
    try {
      this.checkpoint();
    } finally {
      this.closed = true;
      this.db.close();
      releaseLock(this.dataDir, this.lockFile);
    }
  }
}

function inUse(dataDir: string, pid: number): FleetError {
  return new FleetError(
    'conflict',
    `data folder ${dataDir} is in use by another bos-fleet process (pid ${pid}); stop it, or start this one with --data-dir <another folder>`,
    { details: { dataDir, pid } },
  );
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function takeLock(dataDir: string): string {
  const lockFile = path.join(dataDir, LOCK_FILE);
  if (openInThisProcess.has(dataDir)) throw inUse(dataDir, process.pid);
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      fs.writeFileSync(lockFile, `${process.pid}\n`, { flag: 'wx', mode: 0o600 });
      openInThisProcess.add(dataDir);
      return lockFile;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const pid = Number.parseInt(fs.readFileSync(lockFile, 'utf8'), 10);
      if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && pidAlive(pid)) throw inUse(dataDir, pid);
      // A stale lock from a killed process (or our own earlier life): take it over.
      fs.rmSync(lockFile, { force: true });
    }
  }
  throw inUse(dataDir, Number.NaN);
}

function releaseLock(dataDir: string, lockFile: string): void {
  openInThisProcess.delete(dataDir);
  fs.rmSync(lockFile, { force: true });
}
