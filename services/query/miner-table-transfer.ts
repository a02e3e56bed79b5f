import {
  minerTable,
  namedColumns,
  NO_LABELS,
  NO_REASONS,
  NUMBER_COLUMNS,
  POOL_NUMBER_COLUMNS,
  type BuiltColumns,
  type MinerTable,
  type MinerTableColumns,
  type MinerTableStrings,
} from './miner-table.ts';

/**
 * A miner table built in the loader thread, as one message to the request thread: numbers in
 * transferred typed arrays (no copy), strings and small objects only where they differ from
 * the table the request thread already holds (`baseVersion`), so that thread allocates next to
 * nothing for a reload and keeps the instances it has.
 */
export interface TableMessage {
  tenant: string;
  size: number;
  /** the table the changes are against; -1: none, every value is in `changes` */
  baseVersion: number;
  /** row of the same miner in the base table, -1 if none */
  prevRow: Int32Array;
  /** the same pool (miner and position) in the base table, -1 if none */
  prevPool: Int32Array;
  changes: Record<SharedColumn, Changes<unknown>>;
  poolUrlChanges: Changes<string>;
  poolStart: Int32Array;
  reached: Uint8Array;
  /** NUMBER_COLUMNS, in that order */
  numbers: Float64Array[];
  poolFlags: Uint8Array;
  /** POOL_NUMBER_COLUMNS, in that order */
  poolNumbers: Float64Array[];
}

interface Changes<T> {
  rows: Int32Array;
  values: T[];
}

const SHARED_COLUMNS = [
  'id',
  'site',
  'address',
  'hostname',
  'model',
  'firmware',
  'status',
  'degraded',
  'labels',
  'haystack',
] as const;
type SharedColumn = (typeof SHARED_COLUMNS)[number];

function changesOf<T>(
  values: readonly T[],
  prev: readonly T[] | undefined,
  prevIndex: Int32Array,
): Changes<T> {
  const rows: number[] = [];
  const out: T[] = [];
  for (let i = 0; i < values.length; i++) {
    const j = prevIndex[i]!;
    if (!prev || j < 0 || values[i] !== prev[j]) {
      rows.push(i);
      out.push(values[i]!);
    }
  }
  return { rows: Int32Array.from(rows), values: out };
}

/** The message for built columns, against `base` (the table the builder reused from; undefined: none). */
export function tableMessage(
  c: BuiltColumns,
  base: MinerTableStrings | undefined,
  baseVersion: number,
): { message: TableMessage; transfer: ArrayBuffer[] } {
  const changes = Object.fromEntries(
    SHARED_COLUMNS.map(col => [col, changesOf<unknown>(c[col], base?.[col], c.prevRow)]),
  ) as Record<SharedColumn, Changes<unknown>>;
  const message: TableMessage = {
    tenant: c.tenant,
    size: c.size,
    baseVersion: base ? baseVersion : -1,
    prevRow: c.prevRow,
    prevPool: c.prevPool,
    changes,
    poolUrlChanges: changesOf(c.poolUrl, base?.poolUrl, c.prevPool),
    // a copy: the loader keeps its own as the base of the next message
    poolStart: c.poolStart.slice(),
    reached: c.reached,
    numbers: NUMBER_COLUMNS.map(k => c[k]),
    poolFlags: c.poolFlags,
    poolNumbers: POOL_NUMBER_COLUMNS.map(k => c[k]),
  };
  const arrays = [
    message.prevRow,
    message.prevPool,
    message.poolStart,
    message.reached,
    message.poolFlags,
    message.poolUrlChanges.rows,
    ...message.numbers,
    ...message.poolNumbers,
    ...SHARED_COLUMNS.map(k => changes[k].rows),
  ];
  return { message, transfer: arrays.map(a => a.buffer as ArrayBuffer) };
}

/** What the loader keeps of columns it sent (the numbers went with the message). */
export function stringsOf(c: MinerTableColumns): MinerTableStrings {
  const kept: Record<string, unknown> = {
    tenant: c.tenant,
    size: c.size,
    poolStart: c.poolStart,
    poolUrl: c.poolUrl,
  };
  for (const k of SHARED_COLUMNS) kept[k] = c[k];
  return kept as unknown as MinerTableStrings;
}

function applied<T>(
  n: number,
  prev: readonly T[] | undefined,
  prevIndex: Int32Array,
  ch: Changes<T>,
  fix: (v: T) => T = v => v,
): T[] {
  const out = new Array<T>(n);
  if (prev) for (let i = 0; i < n; i++) if (prevIndex[i]! >= 0) out[i] = prev[prevIndex[i]!]!;
  for (let k = 0; k < ch.rows.length; k++) out[ch.rows[k]!] = fix(ch.values[k]!);
  return out;
}

const frozenLabels = (v: unknown): unknown =>
  Object.keys(v as object).length === 0 ? NO_LABELS : Object.freeze(v as object);
const frozenReasons = (v: unknown): unknown =>
  (v as unknown[]).length === 0 ? NO_REASONS : Object.freeze(v as unknown[]);

/** The table a message describes; `base` must be the table of its baseVersion when that is not -1. */
export function tableFromMessage(m: TableMessage, base: MinerTable | undefined, version: number): MinerTable {
  if (m.baseVersion >= 0 && base?.version !== m.baseVersion)
    throw new Error(
      `miner table message is against version ${m.baseVersion}, not ${base?.version ?? 'none'}`,
    );
  const b = m.baseVersion >= 0 ? base : undefined;
  const col = <K extends SharedColumn>(k: K, fix?: (v: unknown) => unknown): MinerTableColumns[K] =>
    applied<unknown>(
      m.size,
      b?.[k] as readonly unknown[] | undefined,
      m.prevRow,
      m.changes[k],
      fix,
    ) as MinerTableColumns[K];
  const columns: MinerTableColumns = {
    tenant: m.tenant,
    size: m.size,
    id: col('id'),
    site: col('site'),
    address: col('address'),
    hostname: col('hostname'),
    model: col('model'),
    firmware: col('firmware'),
    status: col('status'),
    degraded: col('degraded', frozenReasons),
    labels: col('labels', frozenLabels),
    haystack: col('haystack'),
    poolStart: m.poolStart,
    poolUrl: applied(m.prevPool.length, b?.poolUrl, m.prevPool, m.poolUrlChanges),
    reached: m.reached,
    ...namedColumns(NUMBER_COLUMNS, m.numbers),
    poolFlags: m.poolFlags,
    ...namedColumns(POOL_NUMBER_COLUMNS, m.poolNumbers),
  };
  return minerTable(columns, version);
}
