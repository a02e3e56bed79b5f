import type { DatabaseSync, StatementSync } from 'node:sqlite';
import { FleetError } from '../../core/errors.ts';
import { MEASUREMENTS } from '../../core/samples.ts';
import { SERIES_SCHEMA, type FieldType } from '../../core/series-schema.ts';

/**
 * The embedded series tables. Raw measurements live in one table per UTC day
 * (`miner_20261206`), so retention drops a whole day at once instead of deleting rows; rollups
 * live in one table each (`miner_1m`) and are trimmed by time. Columns: `time_ms`, one TEXT
 * column per tag ('' when a point has none), one column per field typed from
 * core/series-schema.ts. A field or tag the schema does not know is added with ALTER TABLE to
 * every table of its measurement (recorded in `series_columns`), so all day tables of a
 * measurement have the same columns and read as one with UNION ALL.
 */

export const DAY_MS = 86_400_000;

export type Tier = 'raw' | '1m' | '1h';

export const ROLLUP_TIERS: Readonly<Record<string, Tier>> = {
  [MEASUREMENTS.miner1m]: '1m',
  [MEASUREMENTS.fleet1m]: '1m',
  [MEASUREMENTS.miner1h]: '1h',
  [MEASUREMENTS.fleet1h]: '1h',
};

export const tierOf = (measurement: string): Tier => ROLLUP_TIERS[measurement] ?? 'raw';

const NAME = /^[a-z][a-z0-9_]{0,62}$/;

export function checkMeasurement(m: string): void {
  if (!NAME.test(m))
    throw new FleetError('invalid_argument', `measurement '${m}': expected lower-case letters, digits and _ (starting with a letter)`, {
      details: { measurement: m },
    });
}

/** Quote an SQL identifier. */
export const q = (name: string): string => `"${name.replaceAll('"', '""')}"`;

const SQL_TYPE: Record<FieldType, string> = { float: 'REAL', int: 'INTEGER', string: 'TEXT' };

export interface Column {
  name: string;
  kind: 'tag' | 'field';
  type: FieldType;
}

export function dayOf(timeMs: number): number {
  return Math.floor(timeMs / DAY_MS);
}

export function dayTableName(measurement: string, day: number): string {
  return `${measurement}_${new Date(day * DAY_MS).toISOString().slice(0, 10).replaceAll('-', '')}`;
}

const DAY_SUFFIX = /^(.*)_(\d{4})(\d{2})(\d{2})$/;

/** [measurement, day] of a day table name, or null. */
export function parseDayTable(table: string): [string, number] | null {
  const m = DAY_SUFFIX.exec(table);
  if (!m) return null;
  const ms = Date.UTC(Number(m[2]), Number(m[3]) - 1, Number(m[4]));
  return Number.isFinite(ms) ? [m[1]!, ms / DAY_MS] : null;
}

/** Indexes a measurement's tables get: what the reads filter on (one miner over time; a tenant over time). */
function indexes(measurement: string, table: string, cols: readonly Column[]): string[] {
  const has = (c: string): boolean => cols.some(x => x.name === c);
  const out: string[] = [];
  const tier = tierOf(measurement);
  if (tier !== 'raw') {
    // A rollup window written again (collector restart, late miner window) replaces the earlier point, as in InfluxDB.
    const tags = cols.filter(c => c.kind === 'tag').map(c => c.name);
    const lead = has('miner') ? ['tenant', 'miner', 'time_ms'] : ['tenant', 'time_ms'];
    const key = [...lead, ...tags.filter(t => !lead.includes(t))];
    out.push(`CREATE UNIQUE INDEX IF NOT EXISTS ${q(`${table}_series`)} ON ${q(table)} (${key.map(q).join(', ')})`);
    if (has('miner')) out.push(`CREATE INDEX IF NOT EXISTS ${q(`${table}_time`)} ON ${q(table)} (tenant, time_ms)`);
    return out;
  }
  if (has('tenant') && has('miner') && measurement !== MEASUREMENTS.event)
    out.push(`CREATE INDEX IF NOT EXISTS ${q(`${table}_miner`)} ON ${q(table)} (tenant, miner, time_ms)`);
  if (has('tenant')) out.push(`CREATE INDEX IF NOT EXISTS ${q(`${table}_time`)} ON ${q(table)} (tenant, time_ms)`);
  return out;
}

/** The unique key of a rollup table (its upsert target), or null for raw tables. */
export function upsertKey(measurement: string, cols: readonly Column[]): string[] | null {
  if (tierOf(measurement) === 'raw') return null;
  const tags = cols.filter(c => c.kind === 'tag').map(c => c.name);
  const lead = tags.includes('miner') ? ['tenant', 'miner', 'time_ms'] : ['tenant', 'time_ms'];
  return [...lead, ...tags.filter(t => !lead.includes(t))];
}

interface Measurement {
  name: string;
  columns: Column[];
  /** existing tables: day number -> table (raw), or the one table under day 0 (rollups) */
  tables: Map<number, string>;
}

export interface InsertStatement {
  stmt: StatementSync;
  columns: readonly Column[];
  known: ReadonlySet<string>;
}

export class SeriesTables {
  private readonly db: DatabaseSync;
  private readonly measurements = new Map<string, Measurement>();
  private readonly inserts = new Map<string, InsertStatement>();

  constructor(db: DatabaseSync) {
    this.db = db;
    db.exec(
      'CREATE TABLE IF NOT EXISTS series_columns (measurement TEXT NOT NULL, name TEXT NOT NULL, kind TEXT NOT NULL, type TEXT NOT NULL, PRIMARY KEY (measurement, name))',
    );
    const extra = db.prepare('SELECT measurement, name, kind, type FROM series_columns ORDER BY rowid').all() as unknown as {
      measurement: string;
      name: string;
      kind: Column['kind'];
      type: FieldType;
    }[];
    for (const e of extra) this.measurement(e.measurement).columns.push({ name: e.name, kind: e.kind, type: e.type });
    const tables = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all() as unknown as { name: string }[];
    for (const { name } of tables) {
      if (ROLLUP_TIERS[name]) {
        this.measurement(name).tables.set(0, name);
        continue;
      }
      const parsed = parseDayTable(name);
      if (parsed && (SERIES_SCHEMA[parsed[0]] || this.measurements.has(parsed[0]))) this.measurement(parsed[0]).tables.set(parsed[1], name);
    }
  }

  private measurement(name: string): Measurement {
    let m = this.measurements.get(name);
    if (!m) {
      const schema = SERIES_SCHEMA[name];
      const columns: Column[] = schema
        ? [
            ...schema.tags.map((t): Column => ({ name: t, kind: 'tag', type: 'string' })),
            ...Object.entries(schema.fields).map(([f, type]): Column => ({ name: f, kind: 'field', type })),
          ]
        : [{ name: 'tenant', kind: 'tag', type: 'string' }];
      m = { name, columns, tables: new Map() };
      this.measurements.set(name, m);
    }
    return m;
  }

  /** measurements that have at least one table */
  measurementNames(): string[] {
    return [...this.measurements.values()].filter(m => m.tables.size > 0).map(m => m.name);
  }

  columns(measurement: string): readonly Column[] {
    return this.measurements.get(measurement)?.columns ?? this.measurement(measurement).columns;
  }

  /** Adds a column the schema does not know to every table of the measurement. */
  addColumn(measurement: string, col: Column): void {
    const m = this.measurement(measurement);
    if (m.columns.some(c => c.name === col.name)) return;
    this.db
      .prepare('INSERT INTO series_columns (measurement, name, kind, type) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING')
      .run(measurement, col.name, col.kind, col.type);
    for (const table of m.tables.values()) this.db.exec(`ALTER TABLE ${q(table)} ADD COLUMN ${columnDef(col)}`);
    m.columns.push(col);
    for (const table of m.tables.values()) this.inserts.delete(table);
  }

  /** The table a point at timeMs goes to, created on first use. */
  tableFor(measurement: string, timeMs: number): string {
    const m = this.measurement(measurement);
    const key = tierOf(measurement) === 'raw' ? dayOf(timeMs) : 0;
    const have = m.tables.get(key);
    if (have) return have;
    checkMeasurement(measurement);
    const table = key === 0 && tierOf(measurement) !== 'raw' ? measurement : dayTableName(measurement, key);
    this.db.exec(`CREATE TABLE IF NOT EXISTS ${q(table)} (time_ms INTEGER NOT NULL, ${m.columns.map(columnDef).join(', ')})`);
    for (const ix of indexes(measurement, table, m.columns)) this.db.exec(ix);
    m.tables.set(key, table);
    return table;
  }

  /** The prepared INSERT (an upsert for rollups) of a table with every column of its measurement. */
  insert(measurement: string, table: string): InsertStatement {
    let ins = this.inserts.get(table);
    if (ins) return ins;
    const columns = [...this.columns(measurement)];
    const names = ['time_ms', ...columns.map(c => c.name)];
    let sql = `INSERT INTO ${q(table)} (${names.map(q).join(', ')}) VALUES (${names.map(() => '?').join(', ')})`;
    const key = upsertKey(measurement, columns);
    if (key) {
      const fields = columns.filter(c => c.kind === 'field');
      // Field by field, as InfluxDB merges a point written again: what the new point lacks stays.
      sql += ` ON CONFLICT (${key.map(q).join(', ')}) DO UPDATE SET ${fields.map(c => `${q(c.name)} = coalesce(excluded.${q(c.name)}, ${q(c.name)})`).join(', ')}`;
    }
    ins = { stmt: this.db.prepare(sql), columns, known: new Set(columns.map(c => c.name)) };
    this.inserts.set(table, ins);
    return ins;
  }

  /** Tables of a measurement holding [fromMs, toMs), oldest first. */
  tablesFor(measurement: string, fromMs: number, toMs: number): string[] {
    const m = this.measurements.get(measurement);
    if (!m) return [];
    if (tierOf(measurement) !== 'raw') return [...m.tables.values()];
    const first = dayOf(fromMs);
    const last = dayOf(Math.max(fromMs, toMs - 1));
    return [...m.tables.entries()]
      .filter(([day]) => day >= first && day <= last)
      .sort((a, b) => a[0] - b[0])
      .map(([, t]) => t);
  }

  /** Raw day tables that ended at or before cutoffMs: [measurement, table]. */
  dayTablesBefore(cutoffMs: number): [string, string][] {
    const out: [string, string][] = [];
    for (const m of this.measurements.values()) {
      if (tierOf(m.name) !== 'raw') continue;
      for (const [day, table] of m.tables) if ((day + 1) * DAY_MS <= cutoffMs) out.push([m.name, table]);
    }
    return out.sort((a, b) => (a[1] < b[1] ? -1 : 1));
  }

  dropTable(measurement: string, table: string): void {
    this.db.exec(`DROP TABLE IF EXISTS ${q(table)}`);
    const m = this.measurements.get(measurement);
    if (m) for (const [k, t] of m.tables) if (t === table) m.tables.delete(k);
    this.inserts.delete(table);
  }

  rollupTables(): string[] {
    return [...this.measurements.values()].filter(m => tierOf(m.name) !== 'raw').flatMap(m => [...m.tables.values()]);
  }
}

function columnDef(c: Column): string {
  return c.kind === 'tag' ? `${q(c.name)} TEXT NOT NULL DEFAULT ''` : `${q(c.name)} ${SQL_TYPE[c.type]}`;
}
