import { FleetError } from '../../core/errors.ts';

/**
 * What users type for a miner or a model, resolved against the tenant's miner table; REST
 * (/miners filters, /miners/:id, control targets) and MCP (`miner`, `miners`, `model`) all come
 * here, so every surface accepts the same spellings and says the same about unknown ones:
 *  - a miner by id, hostname (or its first label, `rig-a` for `rig-a.lan`) or address (`10.0.0.5`
 *    or `10.0.0.5:50051`), case-insensitively; two miners answering to one name are refused, not
 *    guessed between; an unknown value is not_found with the closest ids;
 *  - a model by its full name (`Antminer S21`) or its key, the name without the vendor word,
 *    ignoring case, spaces and dashes (`s21`, `s19j-pro`).
 */

/** The columns of a MinerTable the resolver reads. */
export interface MinerRefColumns {
  size: number;
  id: readonly string[];
  hostname: readonly (string | null)[];
  address: readonly string[];
  model: readonly (string | null)[];
}

/** Levenshtein distance of a and b, or max + 1 as soon as it must exceed max. */
export function editDistance(a: string, b: string, max: number): number {
  if (Math.abs(a.length - b.length) > max) return max + 1;
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    let rowMin = i;
    for (let j = 1; j <= b.length; j++) {
      const cost = a.charCodeAt(i - 1) === b.charCodeAt(j - 1) ? 0 : 1;
      const v = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + cost);
      cur.push(v);
      if (v < rowMin) rowMin = v;
    }
    if (rowMin > max) return max + 1;
    prev = cur;
  }
  return prev[b.length]!;
}

/**
 * The candidates closest to `query`, best first: case-insensitive equality, then prefix (either
 * way), then substring, then edit distance up to max(2, a third of the query's length).
 */
export function closeMatches(query: string, candidates: readonly string[], k = 3): string[] {
  const q = query.toLowerCase();
  const maxDist = Math.max(2, Math.floor(q.length / 3));
  const scored: { id: string; score: number }[] = [];
  for (const id of candidates) {
    const c = id.toLowerCase();
    let score: number;
    if (c === q) score = 0;
    else if (c.startsWith(q) || q.startsWith(c)) score = 1 + Math.abs(c.length - q.length) / 100;
    else if (c.includes(q) || q.includes(c)) score = 2 + Math.abs(c.length - q.length) / 100;
    else {
      const d = editDistance(q, c, maxDist);
      if (d > maxDist) continue;
      score = 2 + d;
    }
    scored.push({ id, score });
  }
  scored.sort((a, b) => a.score - b.score || (a.id < b.id ? -1 : 1));
  // Only the best tier (and near ties): a distance-1 match beats any distance-2 one.
  const best = scored[0]?.score ?? 0;
  return scored
    .filter(s => s.score < Math.floor(best) + 1)
    .slice(0, k)
    .map(s => s.id);
}

/** `10.0.0.5:50051` -> `10.0.0.5`; `[fd00::5]:50051` -> `fd00::5`; a bare host as is. */
function hostOf(address: string): string {
  const v6 = /^\[([^\]]+)\](?::\d+)?$/.exec(address);
  if (v6) return v6[1]!;
  const i = address.lastIndexOf(':');
  return i > 0 && address.indexOf(':') === i ? address.slice(0, i) : address;
}

/** Does `row` answer to `q` (lower case) other than by its exact id? */
function answersTo(t: MinerRefColumns, row: number, q: string): boolean {
  if (t.id[row]!.toLowerCase() === q) return true;
  const host = t.hostname[row]?.toLowerCase();
  if (host && (host === q || host.split('.')[0] === q)) return true;
  const address = t.address[row]!.toLowerCase();
  return address === q || hostOf(address) === q;
}

const label = (t: MinerRefColumns, row: number): string =>
  `${t.id[row]}${t.hostname[row] ? ` (${t.hostname[row]})` : ''}`;

/** Ids (with hostnames) close to `ref`, for "did you mean". */
export function suggestMiners(t: MinerRefColumns, ref: string, k = 3): { id: string; hostname: string | null }[] {
  const byName = new Map<string, number>();
  for (let i = 0; i < t.size; i++) {
    byName.set(t.id[i]!, i);
    const h = t.hostname[i];
    if (h && !byName.has(h)) byName.set(h, i);
  }
  const rows = [...new Set(closeMatches(ref, [...byName.keys()], k).map(n => byName.get(n)!))];
  return rows.map(i => ({ id: t.id[i]!, hostname: t.hostname[i] ?? null }));
}

export function unknownMinerError(t: MinerRefColumns | undefined, ref: string, listHint: string): FleetError {
  const close = t ? suggestMiners(t, ref) : [];
  const mean = close.length
    ? `did you mean ${close.map(c => `'${c.id}'${c.hostname ? ` (${c.hostname})` : ''}`).join(', ')}? `
    : '';
  return new FleetError('not_found', `unknown miner '${ref}'; ${mean}${listHint}`, {
    details: { miner: ref, ...(close.length ? { candidates: close.map(c => c.id) } : {}) },
  });
}

/**
 * The row of the miner `ref` names (see above), or -1 when none does. `field` names the argument
 * in the error for an ambiguous name.
 */
export function findMinerRow(t: MinerRefColumns, field: string, ref: string): number {
  const exact = t.id.indexOf(ref);
  if (exact >= 0) return exact;
  const q = ref.toLowerCase();
  const rows: number[] = [];
  for (let i = 0; i < t.size; i++) if (answersTo(t, i, q)) rows.push(i);
  if (rows.length > 1) {
    throw new FleetError(
      'invalid_argument',
      `${field}: '${ref}' names ${rows.length} miners: ${rows.slice(0, 5).map(i => label(t, i)).join(', ')}${rows.length > 5 ? ', …' : ''}; give the id`,
      { details: { field, value: ref, candidates: rows.slice(0, 20).map(i => t.id[i]!) } },
    );
  }
  return rows[0] ?? -1;
}

/** As findMinerRow, but an unknown miner is not_found with close matches. */
export function resolveMinerRow(t: MinerRefColumns, field: string, ref: string, listHint = 'list the miners to see their ids'): number {
  const row = findMinerRow(t, field, ref);
  if (row < 0) throw unknownMinerError(t, ref, listHint);
  return row;
}

/** `Antminer S19j Pro` -> `s19jpro`: the name without its vendor word, letters and digits only. */
export function modelKey(name: string): string {
  const words = name.trim().split(/\s+/);
  return squash((words.length > 1 ? words.slice(1) : words).join(''));
}

const squash = (s: string): string => s.toLowerCase().replace(/[^a-z0-9]/g, '');

/** The fleet's model names `input` names (full name or key, any case); empty when none. */
export function matchModels(t: MinerRefColumns, input: string): string[] {
  const want = squash(input);
  const names = new Set<string>();
  for (let i = 0; i < t.size; i++) {
    const m = t.model[i];
    if (m && !names.has(m) && (m === input || squash(m) === want || modelKey(m) === want)) names.add(m);
  }
  return [...names].sort();
}

/** The fleet's model names close to `input` (by name or key), for "did you mean". */
export function suggestModels(t: MinerRefColumns, input: string, k = 3): string[] {
  const byKey = new Map<string, string>();
  for (let i = 0; i < t.size; i++) {
    const m = t.model[i];
    if (m) {
      byKey.set(m, m);
      if (!byKey.has(modelKey(m))) byKey.set(modelKey(m), m);
    }
  }
  return [...new Set(closeMatches(squash(input) || input, [...byKey.keys()], k).map(c => byKey.get(c)!))];
}
