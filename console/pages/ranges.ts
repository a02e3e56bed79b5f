import { html, type Html } from '../html.ts';
import { downsampleMinMax } from '../../services/query/chart-downsample.ts';

/** The chart ranges a user can pick. */
export const RANGES = ['1h', '24h', '7d', '30d'] as const;
export type ChartRange = (typeof RANGES)[number];

export function rangeParam(query: unknown): ChartRange {
  const v = (query as Record<string, unknown> | null)?.range;
  return (RANGES as readonly unknown[]).includes(v) ? (v as ChartRange) : '24h';
}

export function rangePicker(path: string, current: ChartRange): Html {
  return html`<nav class="ranges" aria-label="Chart range">${RANGES.map(
    r => html`<a href="${path}?range=${r}"${r === current ? html` aria-current="true"` : ''}>${r}</a>`,
  )}</nav>`;
}

/** What a chart's JSON holds: x in Unix seconds, one array of values per series. */
export interface ChartData {
  x: number[];
  series: { label: string; unit: string; scale: string; values: (number | null)[]; dash?: boolean }[];
}

/** Chart answers are shared this long: rollups behind them are written once a minute. */
export const CHART_FRESH_MS = 15_000;

/** At most this many points per series: more than a chart is pixels wide draws nothing more and costs the page time. */
export const MAX_CHART_POINTS = 1_000;

/** The chart's data with at most MAX_CHART_POINTS per series (min/max kept: chart-downsample.ts). */
export function fitChart(d: ChartData): ChartData {
  const fitted = downsampleMinMax({ x: d.x, values: d.series.map(s => s.values) }, MAX_CHART_POINTS);
  if (fitted.x === d.x) return d;
  return { x: fitted.x, series: d.series.map((s, k) => ({ ...s, values: fitted.values[k]! })) };
}
