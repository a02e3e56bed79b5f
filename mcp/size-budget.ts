/**
 * Answer size discipline for MCP tools: every answer is read by a model, so it must stay small
 * whatever the fleet (10,000 miners) and must say when it was cut.
 *
 *  - A default answer (the caller did not ask for more with `limit`) stays under
 *    DEFAULT_ANSWER_BYTES, measured as the serialized `content` + `structuredContent` the SDK
 *    sends. With an explicit `limit`, the ceiling is EXPLICIT_ANSWER_BYTES.
 *  - Lists are cut to fit with `fitList`: the largest prefix that fits is kept, and the answer
 *    carries `truncated: true` and a hint how to narrow the question.
 */
import { z } from 'zod';

/** Ceiling of a default answer, bytes (the bound is 8 KB; we keep a little margin). */
export const DEFAULT_ANSWER_BYTES = 8_000;
/** Ceiling when the caller asked for more with an explicit `limit`. */
export const EXPLICIT_ANSWER_BYTES = 48_000;

/** Serialized size of a tool answer as it goes over the wire (summary text + structured content). */
export function answerBytes(summary: string, structured: unknown): number {
  return Buffer.byteLength(
    JSON.stringify({ content: [{ type: 'text', text: summary }], structuredContent: structured }),
  );
}

/** The byte budget for a list answer: small by default, larger when `limit` was given explicitly. */
export function budgetFor(explicitLimit: number | undefined): number {
  return explicitLimit === undefined ? DEFAULT_ANSWER_BYTES : EXPLICIT_ANSWER_BYTES;
}

export interface Fitted<T> {
  answer: T;
  /** items kept */
  kept: number;
  /** true when items were dropped to fit the byte budget (on top of any `limit` cut) */
  cut: boolean;
}

/**
 * The answer for the largest n <= count whose serialized size fits `budget`. `make(n)` builds
 * the answer with the first n items (and must mark `truncated` itself when n < total).
 * Binary search: about log2(count) serialisations.
 */
export function fitList<T extends { structured: unknown; summary: string }>(
  count: number,
  make: (n: number) => T,
  budget: number,
): Fitted<T> {
  const full = make(count);
  if (answerBytes(full.summary, full.structured) <= budget) return { answer: full, kept: count, cut: false };
  let lo = 0;
  let hi = count - 1;
  let best = make(0);
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const a = make(mid);
    if (answerBytes(a.summary, a.structured) <= budget) {
      best = a;
      lo = mid + 1;
    } else {
      hi = mid - 1;
    }
  }
  return { answer: best, kept: Math.max(0, lo - 1), cut: true };
}

/** Keep the tail of a text within maxBytes (UTF-8), cutting at a line start when possible. */
export function tailText(text: string, maxBytes: number): { text: string; truncated: boolean } {
  const buf = Buffer.from(text, 'utf8');
  if (buf.length <= maxBytes) return { text, truncated: false };
  let cut = buf.subarray(buf.length - maxBytes).toString('utf8');
  const nl = cut.indexOf('\n');
  if (nl >= 0 && nl < cut.length - 1) cut = cut.slice(nl + 1);
  return { text: cut.replace(/^\uFFFD+/, ''), truncated: true };
}

/** Shorten a string to max characters with an ellipsis. */
export function clip(s: string, max: number): string {
  return s.length <= max ? s : `${s.slice(0, Math.max(0, max - 1))}…`;
}

/**
 * `limit` argument of a list tool: optional (so we can tell an explicit request for more from
 * the default), integer, with a hard cap named in the error.
 */
export function limitArg(def: number, max: number, what: string): z.ZodOptional<z.ZodCoercedNumber> {
  const msg = `expected an integer between 1 and ${max}`;
  return z.coerce
    .number({ error: msg })
    .int({ error: msg })
    .min(1, { error: msg })
    .max(max, { error: msg })
    .optional()
    .describe(`Most ${what} to return (default ${def}, at most ${max}).`);
}

/** Common list fields of an answer. */
export const ListFields = {
  total: z.number().describe('How many matched in all.'),
  limit: z.number().describe('Most items this answer could carry.'),
  truncated: z.boolean().describe('True when more matched than are shown; narrow the question or raise limit.'),
  hint: z.string().optional().describe('How to narrow or widen the question, or why the answer may be empty.'),
};
