import { FleetError } from '../../core/errors.ts';

/**
 * InfluxDB line protocol (v1/v2 /write format), the export/import format of `bos-fleet export` and
 * `import`: `measurement,tag=v field=1.5,count=3i,name="x" 1700000000000000000`.
 * Floats are numbers, integers bigints (the `i` suffix), strings and booleans as themselves.
 */
export type FieldValue = number | bigint | string | boolean;

export interface LinePoint {
  measurement: string;
  tags: Readonly<Record<string, string>>;
  fields: Readonly<Record<string, FieldValue>>;
  /** nanoseconds since the epoch */
  timeNs: bigint;
}

const escapeMeasurement = (s: string): string => s.replace(/[\\, ]/g, m => `\\${m}`);
const escapeKey = (s: string): string => s.replace(/[\\,= ]/g, m => `\\${m}`);

function formatField(v: FieldValue): string {
  switch (typeof v) {
    case 'bigint':
      return `${v}i`;
    case 'boolean':
      return v ? 'true' : 'false';
    case 'string':
      return `"${v.replace(/[\\"]/g, m => `\\${m}`)}"`;
    default:
      if (!Number.isFinite(v)) throw new FleetError('invalid_argument', `a field value must be finite, got ${v}`);
      return String(v);
  }
}

/** One point as one line (no newline). Tags are sorted, as InfluxDB stores them. */
export function formatLine(p: LinePoint): string {
  const fields = Object.entries(p.fields);
  if (fields.length === 0) throw new FleetError('invalid_argument', `point ${p.measurement} has no fields`);
  const tags = Object.entries(p.tags)
    .filter(([, v]) => v !== '')
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([k, v]) => `,${escapeKey(k)}=${escapeKey(v)}`)
    .join('');
  const fieldText = fields.map(([k, v]) => `${escapeKey(k)}=${formatField(v)}`).join(',');
  return `${escapeMeasurement(p.measurement)}${tags} ${fieldText} ${p.timeNs}`;
}

/** Reads one line; `where` (file:line) goes into the error, which says what was expected. */
export function parseLine(line: string, where = 'line'): LinePoint {
  let i = 0;
  const fail = (what: string): never => {
    throw new FleetError('invalid_argument', `${where}: ${what} at column ${i + 1}; expected measurement[,tag=value…] field=value[,…] [timestamp]`);
  };
  // Reads up to an unescaped stop character, removing the escapes.
  const token = (stops: string): string => {
    let out = '';
    while (i < line.length && !stops.includes(line[i]!)) {
      if (line[i] === '\\' && i + 1 < line.length) {
        out += line[i + 1];
        i += 2;
      } else out += line[i++];
    }
    return out;
  };
  const measurement = token(', ');
  if (measurement === '') fail('no measurement');
  const tags: Record<string, string> = {};
  while (line[i] === ',') {
    i++;
    const k = token('=, ');
    if (line[i] !== '=' || k === '') fail('a tag without a value');
    i++;
    tags[k] = token(', ');
  }
  if (line[i] !== ' ') fail('no fields');
  i++;
  const fields: Record<string, FieldValue> = {};
  for (;;) {
    const k = token('= ');
    if (line[i] !== '=' || k === '') fail('a field without a value');
    i++;
    if (line[i] === '"') {
      i++;
      let s = '';
      while (i < line.length && line[i] !== '"') {
        if (line[i] === '\\' && (line[i + 1] === '"' || line[i + 1] === '\\')) i++;
        s += line[i++];
      }
      if (line[i] !== '"') fail('an unterminated string');
      i++;
      fields[k] = s;
    } else {
      const raw = token(', ');
      fields[k] = fieldOf(raw) ?? fail(`field ${k}=${raw} is not a number, integer (…i), boolean or "string"`);
    }
    if (line[i] === ',') {
      i++;
      continue;
    }
    break;
  }
  let timeNs: bigint;
  if (i >= line.length) timeNs = BigInt(Date.now()) * 1_000_000n;
  else {
    if (line[i] !== ' ') fail('text after the fields');
    const t = line.slice(i + 1).trim();
    if (!/^-?\d+$/.test(t)) fail(`timestamp "${t}" is not an integer of nanoseconds`);
    timeNs = BigInt(t);
  }
  return { measurement, tags, fields, timeNs };
}

function fieldOf(raw: string): FieldValue | undefined {
  if (/^-?\d+i$/.test(raw)) return BigInt(raw.slice(0, -1));
  if (/^-?\d+u$/.test(raw)) return BigInt(raw.slice(0, -1));
  if (/^(t|T|true|True|TRUE)$/.test(raw)) return true;
  if (/^(f|F|false|False|FALSE)$/.test(raw)) return false;
  if (raw !== '' && /^[-+0-9.eE]+$/.test(raw)) {
    const n = Number(raw);
    if (Number.isFinite(n)) return n;
  }
  return undefined;
}

/** Points from a stream of text (a file), skipping blank lines and # comments. */
export async function* readLines(input: AsyncIterable<string | Buffer>, name: string): AsyncGenerator<LinePoint> {
  let rest = '';
  let n = 0;
  for await (const chunk of input) {
    rest += String(chunk);
    let nl: number;
    while ((nl = rest.indexOf('\n')) >= 0) {
      const line = rest.slice(0, nl).replace(/\r$/, '');
      rest = rest.slice(nl + 1);
      n++;
      if (line.trim() === '' || line.startsWith('#')) continue;
      yield parseLine(line, `${name}:${n}`);
    }
  }
  n++;
  if (rest.trim() !== '' && !rest.startsWith('#')) yield parseLine(rest.replace(/\r$/, ''), `${name}:${n}`);
}
