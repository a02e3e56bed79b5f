/**
 * Answers that one cache entry hands to many requests (the same miner-list page, the same
 * summary), with their JSON produced once: at 1,000 requests/s, serializing a 50-miner page
 * (and formatting its timestamps) per request was a large share of the API's CPU. The
 * serializer (plugins/json.ts) asks `sharedJson` first and stringifies only other answers.
 *
 * A shared answer is frozen (the object, and the arrays and objects directly under it, such
 * as a page's items), so a caller that tried to change one would throw instead of silently
 * changing what every later request receives.
 */
const json = new WeakMap<object, string | null>();

/** Mark `answer` as shared (and freeze it); returns it. */
export function shareAnswer<T extends object>(answer: T): T {
  for (const v of Object.values(answer)) {
    if (Array.isArray(v)) {
      for (const item of v as unknown[]) if (item !== null && typeof item === 'object') Object.freeze(item);
    }
    if (v !== null && typeof v === 'object') Object.freeze(v);
  }
  json.set(Object.freeze(answer), null);
  return answer;
}

/** The JSON of a shared answer (computed on first use), or undefined for any other value. */
export function sharedJson(answer: unknown): string | undefined {
  if (answer === null || typeof answer !== 'object') return undefined;
  const cached = json.get(answer);
  if (cached === undefined) return undefined;
  if (cached !== null) return cached;
  const text = JSON.stringify(answer);
  json.set(answer, text);
  return text;
}
