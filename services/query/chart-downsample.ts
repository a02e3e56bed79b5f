/**
 * Fewer points for a chart that is only so many pixels wide: the x range is cut into
 * maxPoints / 2 equal buckets and each bucket keeps the x of its lowest and of its highest
 * value (of the first series that has values there), in time order, with every series' values at
 * those x. Spikes and dips stay visible, which an average per bucket would flatten. Series are
 * aligned on x (uPlot's data shape); nulls (gaps) are kept as nulls.
 */
export interface AlignedSeries {
  x: number[];
  values: (number | null)[][];
}

export function downsampleMinMax(data: AlignedSeries, maxPoints: number): AlignedSeries {
  const n = data.x.length;
  if (!Number.isInteger(maxPoints) || maxPoints < 2) throw new RangeError(`maxPoints: expected an integer ≥ 2, got ${maxPoints}`);
  if (n <= maxPoints) return data;
  const buckets = Math.floor(maxPoints / 2);
  const x0 = data.x[0]!;
  const span = data.x[n - 1]! - x0 || 1;
  const keep: number[] = [];
  let start = 0;
  for (let b = 0; b < buckets && start < n; b++) {
    const endX = x0 + (span * (b + 1)) / buckets;
    let end = start;
    while (end < n && (data.x[end]! < endX || b === buckets - 1)) end++;
    if (end === start) continue;
    const [lo, hi] = extremes(data.values, start, end);
    if (lo === hi) keep.push(lo);
    else keep.push(Math.min(lo, hi), Math.max(lo, hi));
    start = end;
  }
  return { x: keep.map(i => data.x[i]!), values: data.values.map(v => keep.map(i => v[i] ?? null)) };
}

/** Rows of the lowest and highest value in rows [from, to) of the first series with a value there (else the first row). */
function extremes(values: (number | null)[][], from: number, to: number): [number, number] {
  for (const v of values) {
    let lo = -1;
    let hi = -1;
    for (let i = from; i < to; i++) {
      const y = v[i];
      if (y === null || y === undefined) continue;
      if (lo < 0 || y < v[lo]!) lo = i;
      if (hi < 0 || y > v[hi]!) hi = i;
    }
    if (lo >= 0) return [lo, hi];
  }
  return [from, from];
}
