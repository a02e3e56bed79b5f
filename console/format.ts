/** How numbers, ages and statuses read in the console (units always shown). */

// One formatter per digit count: toLocaleString builds a new one on every call (~40 µs each,
// 15 ms for a page of the miner table).
const FORMATTERS = new Map<number, Intl.NumberFormat>();

export function num(v: number | null | undefined, digits = 1): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return '—';
  let f = FORMATTERS.get(digits);
  if (!f) FORMATTERS.set(digits, (f = new Intl.NumberFormat('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits })));
  return f.format(v);
}

export function withUnit(v: number | null | undefined, unit: string, digits = 1): string {
  const s = num(v, digits);
  return s === '—' ? s : `${s} ${unit}`;
}

/** "8 s ago", "3 min ago", "2 h ago", "4 d ago"; "never" for null. */
export function age(iso: string | null | undefined, nowMs = Date.now()): string {
  if (!iso) return 'never';
  const s = Math.max(0, Math.round((nowMs - Date.parse(iso)) / 1000));
  if (s < 90) return `${s} s ago`;
  if (s < 90 * 60) return `${Math.round(s / 60)} min ago`;
  if (s < 36 * 3600) return `${Math.round(s / 3600)} h ago`;
  return `${Math.round(s / 86400)} d ago`;
}

export function duration(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined) return '—';
  const d = Math.floor(seconds / 86400);
  const h = Math.floor((seconds % 86400) / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  if (d > 0) return `${d} d ${h} h`;
  if (h > 0) return `${h} h ${m} min`;
  return `${m} min`;
}

export const REASON_LABELS: Record<string, string> = {
  hashboard_down: 'dead hashboard',
  low_hashrate: 'low hashrate',
  overheating: 'overheating',
  pool_dead: 'dead pool',
  fan_failure: 'fan failure',
};

export const STATUS_LABELS: Record<string, string> = {
  online: 'hashing',
  degraded: 'degraded',
  offline: 'offline',
  paused: 'paused',
  stopped: 'stopped',
};
