/**
 * What every answer of the API owes a client, whatever it sent (issue #15, "one contract"):
 * no 5xx, an answer within a deadline, no stack trace or server file path, and an error body
 * `{ error: { code, message, details } }` (api/errors.ts) whose 400/422 names the field that was
 * wrong. Over MCP the same, as tool results.
 */

/** A stack frame or a path of the server's files: neither may reach a client. */
const LEAKS: [RegExp, string][] = [
  [/\n\s+at\s+\S/, 'stack frame'],
  [/\bat\s+[\w.<>$]+\s+\((?:file:|node:|\/)[^)]*:\d+:\d+\)/, 'stack frame'],
  [/(?:file:\/\/)?\/(?:work|app|home|usr|opt|srv)\/[\w./-]+\.(?:ts|js|mjs|cjs)\b/, 'server file path'],
  [/node_modules\//, 'server file path'],
  [/\b(?:TypeError|ReferenceError|RangeError|SyntaxError): (?!expected)/, 'JavaScript error text'],
  [/\bECONN(?:REFUSED|RESET)\b|ReplyError|ERR_[A-Z_]{6,}/, 'raw dependency error'],
];

export function leaksIn(text: string): string | null {
  for (const [re, what] of LEAKS) {
    const m = re.exec(text);
    if (m) return `${what}: ${JSON.stringify(text.slice(Math.max(0, m.index - 40), m.index + 120))}`;
  }
  return null;
}

interface ErrorBody {
  error?: { code?: unknown; message?: unknown; details?: { fields?: { field?: unknown }[]; field?: unknown } };
}

/**
 * The 4xx body's defect, or null. `names` are the input names the caller sent (parameters, body
 * keys): a 400/422 must name one of them, or carry `details.fields[].field` / `details.field`.
 */
export function errorBodyProblem(status: number, text: string, names: readonly string[]): string | null {
  let body: ErrorBody;
  try {
    body = JSON.parse(text) as ErrorBody;
  } catch {
    return `a ${status} whose body is not JSON: ${JSON.stringify(text.slice(0, 200))}`;
  }
  const e = body.error;
  if (!e || typeof e.code !== 'string' || typeof e.message !== 'string' || e.message.length === 0)
    return `a ${status} without { error: { code, message } }: ${text.slice(0, 300)}`;
  if (status !== 400 && status !== 422) return null;
  const fields = e.details?.fields;
  if (Array.isArray(fields) && fields.length > 0 && fields.every(f => typeof f.field === 'string' && f.field.length > 0)) return null;
  if (typeof e.details?.field === 'string' && e.details.field.length > 0) return null;
  if (namesAnInput(e.message, names)) return null;
  return `a ${status} that names no field (sent ${names.join(', ') || 'nothing'}): ${text.slice(0, 300)}`;
}

/** The message mentions one of the inputs (a parameter, a body key) or the part of the request (body, querystring, params). */
export function namesAnInput(message: string, names: readonly string[]): boolean {
  const m = message.toLowerCase();
  const words = [...names, 'body', 'querystring', 'params'].map(n => n.toLowerCase()).filter(n => n.length > 0);
  // A one-letter name (q) counts only as a label ("q: too small"), not as a letter in a sentence.
  return words.some(w =>
    new RegExp(`(^|[^a-z0-9_])${w.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}${w.length === 1 ? ':' : '([^a-z0-9_]|$)'}`).test(m),
  );
}

/** A short, printable form of an input for failure reports (long texts cut). */
export function shortly(value: unknown): string {
  const s = JSON.stringify(value, (_k, v: unknown) => (typeof v === 'string' && v.length > 80 ? `${v.slice(0, 40)}…(${v.length} chars)` : v)) ?? String(value);
  return s.length > 600 ? `${s.slice(0, 600)}…` : s;
}
