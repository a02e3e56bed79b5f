import { EventEmitter } from 'node:events';
import {
  WINDOW_MEMO_KEEP_MS,
  type ScheduleChange,
  type ScheduleRecord,
  type SchedulesPort,
  type ScheduleWindow,
  type WindowChange,
} from '../ports/schedules.ts';
import type { EmbeddedDatabase } from './database.ts';

const MIGRATIONS = [
  `CREATE TABLE schedules (
     id TEXT PRIMARY KEY,
     tenant TEXT NOT NULL,
     created_ms INTEGER NOT NULL,
     body TEXT NOT NULL
   );
   CREATE INDEX schedules_by_tenant ON schedules (tenant, created_ms);
   CREATE TABLE schedule_windows (
     schedule_id TEXT NOT NULL,
     start_ms INTEGER NOT NULL,
     body TEXT NOT NULL,
     PRIMARY KEY (schedule_id, start_ms)
   ) WITHOUT ROWID;
   CREATE TABLE schedule_claims (
     schedule_id TEXT NOT NULL,
     start_ms INTEGER NOT NULL,
     phase TEXT NOT NULL,
     holder TEXT NOT NULL,
     expires_ms INTEGER NOT NULL,
     PRIMARY KEY (schedule_id, start_ms, phase)
   ) WITHOUT ROWID;
   CREATE TABLE schedule_memos (
     ref TEXT NOT NULL,
     miner_id TEXT NOT NULL,
     change TEXT NOT NULL,
     expires_ms INTEGER NOT NULL,
     PRIMARY KEY (ref, miner_id)
   ) WITHOUT ROWID;`,
];

/** Expired claims and memos are dropped at most this often (on a write), not on every write. */
const PRUNE_EVERY_MS = 3_600_000;

/**
 * Schedules in the embedded SQLite file. The claim is the primary key of schedule_claims: the
 * insert that finds a live row changes nothing and loses, so two evaluators in this process (or
 * an evaluator after a restart) never run a window phase twice. Claims and memos carry their
 * expiry and are pruned on writes, as Redis would expire them. Change announcements stay in
 * this process (one process owns the data folder).
 */
export function embeddedSchedules(database: EmbeddedDatabase): SchedulesPort {
  database.migrate('schedules', MIGRATIONS);
  const db = database.db;
  const changes = new EventEmitter();
  changes.setMaxListeners(0);
  let prunedMs = 0;

  const q = {
    save: db.prepare(
      `INSERT INTO schedules (id, tenant, created_ms, body) VALUES (?, ?, ?, ?)
       ON CONFLICT(id) DO UPDATE SET tenant = excluded.tenant, created_ms = excluded.created_ms, body = excluded.body`,
    ),
    get: db.prepare('SELECT body FROM schedules WHERE id = ? AND tenant = ?'),
    list: db.prepare('SELECT body FROM schedules WHERE tenant = ? ORDER BY created_ms, id'),
    listAll: db.prepare('SELECT body FROM schedules ORDER BY created_ms, id'),
    delete: db.prepare('DELETE FROM schedules WHERE id = ? AND tenant = ?'),
    deleteWindows: db.prepare('DELETE FROM schedule_windows WHERE schedule_id = ?'),
    claim: db.prepare(
      `INSERT INTO schedule_claims (schedule_id, start_ms, phase, holder, expires_ms) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT(schedule_id, start_ms, phase) DO UPDATE SET holder = excluded.holder, expires_ms = excluded.expires_ms
       WHERE schedule_claims.expires_ms <= ?`,
    ),
    claimed: db.prepare('SELECT 1 AS x FROM schedule_claims WHERE schedule_id = ? AND start_ms = ? AND phase = ? AND expires_ms > ?'),
    saveWindow: db.prepare(
      `INSERT INTO schedule_windows (schedule_id, start_ms, body) VALUES (?, ?, ?)
       ON CONFLICT(schedule_id, start_ms) DO UPDATE SET body = excluded.body`,
    ),
    trimWindows: db.prepare(
      `DELETE FROM schedule_windows WHERE schedule_id = ? AND start_ms NOT IN
         (SELECT start_ms FROM schedule_windows WHERE schedule_id = ? ORDER BY start_ms DESC LIMIT ?)`,
    ),
    getWindow: db.prepare('SELECT body FROM schedule_windows WHERE schedule_id = ? AND start_ms = ?'),
    listWindows: db.prepare('SELECT body FROM schedule_windows WHERE schedule_id = ? ORDER BY start_ms DESC'),
    remember: db.prepare(
      `INSERT INTO schedule_memos (ref, miner_id, change, expires_ms) VALUES (?, ?, ?, ?)
       ON CONFLICT(ref, miner_id) DO UPDATE SET change = excluded.change, expires_ms = excluded.expires_ms`,
    ),
    changeOf: db.prepare('SELECT change FROM schedule_memos WHERE ref = ? AND miner_id = ? AND expires_ms > ?'),
    changed: db.prepare('SELECT miner_id FROM schedule_memos WHERE ref = ? AND expires_ms > ? ORDER BY miner_id'),
    pruneClaims: db.prepare('DELETE FROM schedule_claims WHERE expires_ms <= ?'),
    pruneMemos: db.prepare('DELETE FROM schedule_memos WHERE expires_ms <= ?'),
  };

  const prune = (now: number): void => {
    if (now - prunedMs < PRUNE_EVERY_MS) return;
    prunedMs = now;
    q.pruneClaims.run(now);
    q.pruneMemos.run(now);
  };
  const bodies = (rows: unknown[]): ScheduleRecord[] =>
    (rows as { body: string }[]).map(r => JSON.parse(r.body) as ScheduleRecord);

  return {
    async save(s) {
      q.save.run(s.id, s.tenant, s.created_ms, JSON.stringify(s));
    },
    async get(tenant, id) {
      const row = q.get.get(id, tenant) as { body: string } | undefined;
      return row ? (JSON.parse(row.body) as ScheduleRecord) : null;
    },
    async list(tenant) {
      return bodies(q.list.all(tenant));
    },
    async listAll() {
      return bodies(q.listAll.all());
    },
    async delete(tenant, id) {
      return database.transaction(() => {
        if (Number(q.delete.run(id, tenant).changes) === 0) return false;
        q.deleteWindows.run(id);
        return true;
      });
    },

    async announce(change) {
      // Listeners run after the caller's write has returned, as a pub/sub message would.
      queueMicrotask(() => changes.emit('change', { ...change }));
    },
    async watch(onChange) {
      const listener = (c: ScheduleChange): void => onChange(c);
      changes.on('change', listener);
      return {
        async close() {
          changes.off('change', listener);
        },
      };
    },

    async claimWindow(id, startMs, phase, holder, ttlMs) {
      const now = Date.now();
      return database.transaction(() => {
        prune(now);
        return Number(q.claim.run(id, startMs, phase, holder, now + ttlMs, now).changes) === 1;
      });
    },
    async isWindowClaimed(id, startMs, phase) {
      return q.claimed.get(id, startMs, phase, Date.now()) !== undefined;
    },

    async saveWindow(id, w, keep) {
      database.transaction(() => {
        q.saveWindow.run(id, w.start_ms, JSON.stringify(w));
        q.trimWindows.run(id, id, keep);
      });
    },
    async getWindow(id, startMs) {
      const row = q.getWindow.get(id, startMs) as { body: string } | undefined;
      return row ? (JSON.parse(row.body) as ScheduleWindow) : null;
    },
    async listWindows(id) {
      return (q.listWindows.all(id) as { body: string }[]).map(r => JSON.parse(r.body) as ScheduleWindow);
    },

    windowMemoRef: (id, startMs) => `${id}/${startMs}`,
    async rememberChange(ref, minerId, change) {
      const now = Date.now();
      database.transaction(() => {
        prune(now);
        q.remember.run(ref, minerId, JSON.stringify(change), now + WINDOW_MEMO_KEEP_MS);
      });
    },
    async changeOf(ref, minerId) {
      const row = q.changeOf.get(ref, minerId, Date.now()) as { change: string } | undefined;
      return row ? (JSON.parse(row.change) as WindowChange) : null;
    },
    async changedMiners(ref) {
      return (q.changed.all(ref, Date.now()) as { miner_id: string }[]).map(r => r.miner_id);
    },
  };
}
