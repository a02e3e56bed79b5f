import path from 'node:path';
import type { Logger } from '../../runtime/logger.ts';
import { FirmwareFolder } from '../firmware-folder.ts';
import type { AppliedImage, FirmwareImage, FirmwarePort } from '../ports/firmware.ts';
import type { EmbeddedDatabase } from './database.ts';

const MIGRATIONS = [
  `CREATE TABLE firmware_images (
     tenant TEXT NOT NULL,
     sha256 TEXT NOT NULL,
     uploaded_ms INTEGER NOT NULL,
     body TEXT NOT NULL,
     PRIMARY KEY (tenant, sha256)
   ) WITHOUT ROWID;
   CREATE INDEX firmware_images_by_sha ON firmware_images (sha256);
   CREATE TABLE firmware_applied (
     tenant TEXT NOT NULL,
     miner_id TEXT NOT NULL,
     body TEXT NOT NULL,
     PRIMARY KEY (tenant, miner_id)
   ) WITHOUT ROWID;`,
];

/**
 * Firmware metadata in SQLite, bytes as files in `<dataDir>/firmware/<sha256>.img`. Why files
 * and not BLOBs: images run to hundreds of MB; as BLOBs every upload would pass through the WAL
 * and leave the database file that large for good, and a rollout would hold a whole image in
 * one row read. Files are streamed in, renamed into place, and deleted when the last tenant's
 * row for that checksum goes (the rows are the reference count).
 */
export function embeddedFirmware(database: EmbeddedDatabase, log?: Logger): FirmwarePort {
  database.migrate('firmware', MIGRATIONS);
  const db = database.db;
  const folder = new FirmwareFolder(path.join(database.dataDir, 'firmware'));
  const q = {
    put: db.prepare(
      `INSERT INTO firmware_images (tenant, sha256, uploaded_ms, body) VALUES (?, ?, ?, ?)
       ON CONFLICT(tenant, sha256) DO UPDATE SET uploaded_ms = excluded.uploaded_ms, body = excluded.body`,
    ),
    get: db.prepare('SELECT body FROM firmware_images WHERE tenant = ? AND sha256 = ?'),
    list: db.prepare('SELECT body FROM firmware_images WHERE tenant = ? ORDER BY uploaded_ms DESC'),
    delete: db.prepare('DELETE FROM firmware_images WHERE tenant = ? AND sha256 = ?'),
    refs: db.prepare('SELECT count(*) AS n FROM firmware_images WHERE sha256 = ?'),
    applied: db.prepare('SELECT body FROM firmware_applied WHERE tenant = ? AND miner_id = ?'),
    recordApplied: db.prepare(
      `INSERT INTO firmware_applied (tenant, miner_id, body) VALUES (?, ?, ?)
       ON CONFLICT(tenant, miner_id) DO UPDATE SET body = excluded.body`,
    ),
  };

  return {
    stagingFile: () => folder.stagingFile(),

    async keepImage(tenant, image, stagedFile) {
      // The row first: a delete of the same bytes by another tenant meanwhile then sees a
      // reference and leaves the file this rename is about to put in place.
      q.put.run(tenant, image.sha256, image.uploaded_ms, JSON.stringify(image));
      try {
        await folder.keep(image.sha256, stagedFile);
      } catch (err) {
        q.delete.run(tenant, image.sha256);
        throw err;
      }
    },

    async getImage(tenant, sha256) {
      const row = q.get.get(tenant, sha256) as { body: string } | undefined;
      return row ? (JSON.parse(row.body) as FirmwareImage) : null;
    },

    async listImages(tenant) {
      return (q.list.all(tenant) as { body: string }[]).map(r => JSON.parse(r.body) as FirmwareImage);
    },

    async deleteImage(tenant, sha256) {
      // One synchronous step from the count to the unlink, so no keepImage of this process runs in between.
      return database.transaction(() => {
        const removed = Number(q.delete.run(tenant, sha256).changes) > 0;
        if ((q.refs.get(sha256) as { n: number }).n === 0) {
          try {
            folder.removeNow(sha256);
          } catch (err) {
            log?.warn({ sha256, err: (err as Error).message }, 'firmware: the unused image file could not be deleted');
          }
        }
        return removed;
      });
    },

    readImageBytes: sha256 => folder.read(sha256),
    hasImageBytes: sha256 => folder.has(sha256),

    async appliedImage(tenant, minerId) {
      const row = q.applied.get(tenant, minerId) as { body: string } | undefined;
      return row ? (JSON.parse(row.body) as AppliedImage) : null;
    },

    async recordApplied(tenant, minerId, applied) {
      q.recordApplied.run(tenant, minerId, JSON.stringify(applied));
    },
  };
}
