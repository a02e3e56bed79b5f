
/** A running mean: sum and count (collector/rollups.ts accumulates them). */
export interface MeanAcc {
  sum: number;
  n: number;
}

/**
 * Per-miner window statistics: the format shared by the collector (writer,
 * collector/window-stats-writer.ts) and the query service (reader, services/query/window-stats.ts),
 * stored through the state port (store/ports/state.ts). Why Redis and not InfluxDB: per-miner analytics
 * over a whole tenant read one value per miner, and InfluxDB 1.x pays per series (10,000 series
 * iterators take seconds even over hourly rollups); a hash of 10,000 short fields comes back
 * from Redis in tens of milliseconds.
 *
 * Layout: one bucket per (tenant, resolution, bucket start) (on Redis a HASH, redis-keys.ts `windowStats`), field
 * `<miner id>|<collector run id>`, value a WindowStat encoded by encodeWindowStat. The run id
 * (COLLECTOR_ID plus the process start) makes every write an idempotent overwrite while a
 * restarted collector, or a second collector that took a miner over, adds its own field for
 * the same bucket instead of replacing the earlier polls: readers merge the fields of a miner.
 * Each bucket expires RESOLUTIONS[].retentionMs after it ends. The open 5-minute bucket holds
 * partials (the polls so far), rewritten every collector cycle until the closed value replaces them.
 */

export const WINDOW_RESOLUTIONS = {
  '5m': { ms: 300_000, retentionMs: 3 * 3_600_000 },
  '1h': { ms: 3_600_000, retentionMs: 50 * 3_600_000 },
  '1d': { ms: 86_400_000, retentionMs: 92 * 86_400_000 },
} as const;
export type WindowResolution = keyof typeof WINDOW_RESOLUTIONS;

/** Statistics of one miner over one bucket (or a merge of several). */
export interface WindowStat {
  site: string;
  /** '' when unknown */
  model: string;
  polls: number;
  reached: number;
  hashrate_ghs: MeanAcc;
  hashrate_nominal_ghs: MeanAcc;
  power_w: MeanAcc;
  /** mean of temp_chip_max_c */
  temp_chip_max_c: MeanAcc;
  /** max of temp_chip_max_c */
  temp_chip_max_max_c: number | null;
  temp_board_max_c: number | null;
}

/** Separates the miner id from the collector run id in a field name (never in a miner id). */
export const FIELD_SEPARATOR = '|';

const FORMAT_VERSION = '1';

const addMean = (a: MeanAcc, b: MeanAcc): void => {
  a.sum += b.sum;
  a.n += b.n;
};
const maxOf = (a: number | null, b: number | null): number | null => (a === null ? b : b === null ? a : Math.max(a, b));

/**
 * Fold b into a, exactly: sums and counts added, maxima of maxima. The site and model of the
 * part with more polls win (a miner that moved keeps the tags it had most of the time).
 */
export function mergeWindowStat(a: WindowStat, b: WindowStat): void {
  if (b.polls > a.polls) {
    a.site = b.site;
    a.model = b.model;
  }
  a.polls += b.polls;
  a.reached += b.reached;
  addMean(a.hashrate_ghs, b.hashrate_ghs);
  addMean(a.hashrate_nominal_ghs, b.hashrate_nominal_ghs);
  addMean(a.power_w, b.power_w);
  addMean(a.temp_chip_max_c, b.temp_chip_max_c);
  a.temp_chip_max_max_c = maxOf(a.temp_chip_max_max_c, b.temp_chip_max_max_c);
  a.temp_board_max_c = maxOf(a.temp_board_max_c, b.temp_board_max_c);
}

export function cloneWindowStat(s: WindowStat): WindowStat {
  return {
    ...s,
    hashrate_ghs: { ...s.hashrate_ghs },
    hashrate_nominal_ghs: { ...s.hashrate_nominal_ghs },
    power_w: { ...s.power_w },
    temp_chip_max_c: { ...s.temp_chip_max_c },
  };
}

// Text fields may hold commas: escape % and , so the value splits on commas unambiguously.
const escapeText = (s: string): string => (/[%,]/.test(s) ? s.replaceAll('%', '%25').replaceAll(',', '%2C') : s);
const unescapeText = (s: string): string => (s.includes('%') ? s.replaceAll('%2C', ',').replaceAll('%25', '%') : s);
const numText = (v: number | null): string => (v === null ? '' : String(v));
const meanText = (a: MeanAcc): string => (a.n > 0 ? `${a.sum / a.n},${a.n}` : ',0');

/**
 * `version,polls,reached,hashrate mean,n,nominal mean,n,power mean,n,chip temp mean,n,chip temp
 * max,board temp max,site,model`: means with their counts (readable in redis-cli, and mean x n
 * gives the sum back for exact merging), empty for null; about 80 bytes a miner.
 */
export function encodeWindowStat(s: WindowStat): string {
  return [
    FORMAT_VERSION,
    s.polls,
    s.reached,
    meanText(s.hashrate_ghs),
    meanText(s.hashrate_nominal_ghs),
    meanText(s.power_w),
    meanText(s.temp_chip_max_c),
    numText(s.temp_chip_max_max_c),
    numText(s.temp_board_max_c),
    escapeText(s.site),
    escapeText(s.model),
  ].join(',');
}

const FIELDS = 15;

/** Where decodeWindowStatColumns puts each number of a value (STAT_COLUMNS a value). */
export const STAT_COLUMN = {
  polls: 0,
  reached: 1,
  hashrateSum: 2,
  hashrateN: 3,
  nominalSum: 4,
  nominalN: 5,
  powerSum: 6,
  powerN: 7,
  chipTempSum: 8,
  chipTempN: 9,
  chipTempMax: 10,
  boardTempMax: 11,
} as const;
export const STAT_COLUMNS = 12;

/**
 * The inverse of encodeWindowStat, into columns: the value's numbers go to out[at .. at +
 * STAT_COLUMNS) (means as sum and count, a missing maximum as NaN), its site and model are
 * returned; null (out left as it was) for a value of another format version or malformed.
 * Readers keep whole buckets of 10,000 miners decoded, and one Float64Array a bucket is a tenth
 * of the memory of WindowStat objects.
 */
export function decodeWindowStatColumns(value: string, out: Float64Array, at: number): { site: string; model: string } | null {
  const p = value.split(',');
  if (p.length !== FIELDS || p[0] !== FORMAT_VERSION) return null;
  const num = (i: number): number => {
    const t = p[i]!;
    if (t === '') return NaN;
    const v = Number(t);
    return Number.isFinite(v) ? v : NaN;
  };
  const polls = num(1);
  const reached = num(2);
  if (Number.isNaN(polls) || Number.isNaN(reached)) return null;
  out[at + STAT_COLUMN.polls] = polls;
  out[at + STAT_COLUMN.reached] = reached;
  for (let k = 0; k < 4; k++) {
    const m = num(3 + 2 * k);
    const c = num(4 + 2 * k);
    const ok = !Number.isNaN(m) && c > 0;
    out[at + STAT_COLUMN.hashrateSum + 2 * k] = ok ? m * c : 0;
    out[at + STAT_COLUMN.hashrateN + 2 * k] = ok ? c : 0;
  }
  out[at + STAT_COLUMN.chipTempMax] = num(11);
  out[at + STAT_COLUMN.boardTempMax] = num(12);
  return { site: unescapeText(p[13]!), model: unescapeText(p[14]!) };
}

/** The miner id of a field name (`<miner id>|<run id>`). */
export function minerOfField(field: string): string {
  const at = field.lastIndexOf(FIELD_SEPARATOR);
  return at < 0 ? field : field.slice(0, at);
}
