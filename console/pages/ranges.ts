import { html, type Html } from '../html.ts';

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
