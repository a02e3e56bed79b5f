import { DatabaseSync, type SQLInputValue } from 'node:sqlite';
import { parentPort, workerData } from 'node:worker_threads';
import { registerSeriesFunctions } from './series-sql.ts';

// The embedded series store's read thread (series-reader-thread.ts): its own read-only
// connection to the WAL file, so a read over many rows never holds the process's event loop.

export interface ReadRequest {
  id: number;
  sql: string;
  params: SQLInputValue[];
}

export type ReadReply = { id: number; ok: true; rows: Record<string, unknown>[] } | { id: number; ok: false; message: string };

const port = parentPort!;
const db = new DatabaseSync((workerData as { file: string }).file, { readOnly: true });
db.exec('PRAGMA busy_timeout = 5000');
registerSeriesFunctions(db);

port.on('message', (req: ReadRequest) => {
  let reply: ReadReply;
  try {
    reply = { id: req.id, ok: true, rows: db.prepare(req.sql).all(...req.params) as Record<string, unknown>[] };
  } catch (err) {
    reply = { id: req.id, ok: false, message: err instanceof Error ? err.message : String(err) };
  }
  port.postMessage(reply);
});
