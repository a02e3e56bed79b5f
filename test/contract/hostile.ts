/**
 * What a careless or hostile client sends: values that broke (or could break) some parser, query
 * builder or store, as JSON values, query-string texts and path segments. `RawJson` carries a
 * token JSON.stringify cannot write (1e400, -0, duplicate keys) into a request body.
 */
import fc from 'fast-check';

export class RawJson {
  readonly text: string;
  constructor(text: string) {
    this.text = text;
  }
}

/** JSON.stringify, but RawJson values go out as their raw text. */
export function jsonText(value: unknown): string {
  const raws: string[] = [];
  const text = JSON.stringify(value, (_k, v: unknown) => {
    if (v instanceof RawJson) {
      raws.push(v.text);
      return `\u0001RAW${raws.length - 1}\u0001`;
    }
    return v;
  });
  return (text ?? 'null').replace(/"\\u0001RAW(\d+)\\u0001"/g, (_m, i: string) => raws[Number(i)]!);
}

/** Strings that broke, or could break, a query builder, a parser or a log line. */
export const HOSTILE_TEXTS: readonly string[] = [
  '',
  ' ',
  'x\nDROP',
  'x\r\nDROP DATABASE x',
  'x\u0000y',
  "x'; DROP MEASUREMENT miner; --",
  'x" OR 1=1 --',
  '/x/ OR tenant =~ /.*/',
  '\\',
  '${jndi:ldap://x}',
  '<script>alert(1)</script>',
  '%00',
  '%0A',
  '../../etc/passwd',
  '..',
  '.',
  'a/b',
  'a.b.c',
  '127.0.0.1',
  '127.1',
  '2130706433',
  '0x7f000001',
  '0177.0.0.1',
  '[::1]',
  '::ffff:127.0.0.1',
  'localhost.',
  'é漢字🙂',
  '\u202e\u200b\ufeff',
  '\ud800',
  '9999999h',
  '-1h',
  '0s',
  '1e400',
  '-1e400',
  'NaN',
  'Infinity',
  '-0',
  '99999999999999999999999',
  '0x10',
  'true',
  'null',
  'undefined',
  '[]',
  '{}',
  'now-9999999d',
  '275760-09-13T00:00:00.001Z',
  '-271821-04-20T00:00:00Z',
  '2026-02-30T25:61:61Z',
  '* * * * * * *',
  'stratum+tcp://',
  'http://169.254.169.254/latest/meta-data',
  'a'.repeat(70_000),
  'Ω'.repeat(3_000),
];

/** JSON values of the wrong kind for almost any field. */
export const HOSTILE_JSON: readonly unknown[] = [
  null,
  true,
  false,
  0,
  -1,
  1.5,
  Number.MAX_SAFE_INTEGER + 2,
  -Number.MAX_VALUE,
  new RawJson('1e400'),
  new RawJson('-1e400'),
  new RawJson('-0'),
  new RawJson('1e-400'),
  new RawJson('123456789012345678901234567890'),
  [],
  [null],
  {},
  JSON.parse('{"__proto__": {"polluted": true}}') as unknown,
  { constructor: { prototype: { polluted: true } } },
  Array.from({ length: 60_000 }, () => 'x'),
];

export const hostileText = (): fc.Arbitrary<string> =>
  fc.oneof(
    { weight: 4, arbitrary: fc.constantFrom(...HOSTILE_TEXTS) },
    { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 40 }) },
    { weight: 1, arbitrary: fc.string({ unit: 'grapheme', maxLength: 20 }) },
  );

export const hostileJson = (): fc.Arbitrary<unknown> =>
  fc.oneof({ weight: 2, arbitrary: fc.constantFrom(...HOSTILE_JSON) }, { weight: 2, arbitrary: hostileText() });

/** Path segments for an id: real ids (own and other tenant's), their spellings, and hostile texts. */
export const hostileSegment = (realIds: readonly string[]): fc.Arbitrary<string> =>
  fc.oneof(
    { weight: 3, arbitrary: fc.constantFrom(...realIds) },
    {
      weight: 2,
      arbitrary: fc
        .constantFrom(...realIds)
        .chain(id =>
          fc.constantFrom(`${id}.`, id.toUpperCase(), ` ${id}`, `${id}%00`, `${id}/..`, `${id}%2F..`, `${id}?x=1`, `${id}#x`),
        ),
    },
    { weight: 3, arbitrary: hostileText().filter(s => s.length > 0 && s.length < 8_000) },
  );
